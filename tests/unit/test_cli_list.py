"""`queue-tui list` in-process: the embedded demo hub (`--demo`) and stubbed hubs (respx).

Output formats, filters reaching the hub, hostile text made harmless, and failures as
one line on stderr with the documented exit code.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner, Result

from queue_tui import cli
from queue_tui.connect import build_client, client_and_clock
from queue_tui.core.timefmt import fmt_duration
from queue_tui.demo.clock import FakeClock

HOST = "https://hub.test"
QUEUE = f"{HOST}/api/ai/queue"


pytestmark = pytest.mark.usefixtures("isolated_env")


@pytest.fixture
def frozen_demo(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The in-process demo hub on a clock that only moves when told to."""
    # A fixed start: with the real time, some starts have no active flux-1-dev rows.
    clock = FakeClock(1_795_000_000.0)
    monkeypatch.setattr(cli, "build_client", functools.partial(build_client, clock=clock))
    monkeypatch.setattr(cli, "client_and_clock", functools.partial(client_and_clock, clock=clock))
    return clock


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def row(gid: str, **kw: Any) -> dict[str, Any]:
    out = {
        "generation_id": gid,
        "model_name": "flux-dev",
        "media_type": "image",
        "status": "processing",
        "enqueued_at": int(time.time()) - 75,
        "started_at": int(time.time()) - 15,
        "target_namespace": "ox",
        "target_repo": "renders",
    }
    out.update(kw)
    return out


# -- output formats -------------------------------------------------------------------


def test_json_is_the_api_shape(frozen_demo: FakeClock) -> None:
    result = run("list", "--demo", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"count", "generations", "dropped", "degraded"}
    assert body["count"] == len(body["generations"]) > 0
    assert body["dropped"] == body["degraded"] == 0
    assert {r["status"] for r in body["generations"]} <= {"queued", "processing"}
    assert result.stderr == ""


def test_jsonl_and_table_show_the_same_rows_as_json(frozen_demo: FakeClock) -> None:
    as_json = json.loads(run("list", "--demo", "--json").stdout)["generations"]
    lines = run("list", "--demo", "--jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == as_json
    table = run("list", "--demo").stdout.splitlines()
    assert table[0].split() == list(cli.LIST_COLUMNS)
    assert len(table) == len(as_json) + 1
    for line, gen in zip(table[1:], as_json, strict=True):
        cells = line.split()
        assert cells[0] == gen["status"]
        assert cells[-1] == gen["generation_id"]


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        (("--status", "failed"), "status", "failed"),
        (("--status", "succeeded"), "status", "succeeded"),
        (("--media-type", "video"), "media_type", "video"),
        (("--model", "flux-1-dev"), "model_name", "flux-1-dev"),
        (("--repo", "storyboards"), "target_repo", "storyboards"),
    ],
)
def test_filters_reach_the_demo_hub(
    frozen_demo: FakeClock, args: tuple[str, str], field: str, value: str
) -> None:
    rows = json.loads(run("list", "--demo", *args, "--json").stdout)["generations"]
    assert rows, "the demo hub has rows for every filter used here"
    assert {r[field] for r in rows} == {value}


def test_group_options_before_the_command_count(frozen_demo: FakeClock) -> None:
    assert json.loads(run("--demo", "list", "--json").stdout)["count"] > 0


@respx.mock
def test_only_set_filters_are_sent(respx_mock: respx.Router) -> None:
    route = respx_mock.get(QUEUE).respond(json={"count": 0, "generations": []})
    result = run("list", "--host", HOST, "--namespace", "ox", "--folder", "a/b", "--json")
    assert result.exit_code == 0, result.output
    assert dict(route.calls.last.request.url.params) == {"namespace": "ox", "folder": "a/b"}


@respx.mock
def test_hostile_text_is_harmless_in_every_format(respx_mock: respx.Router) -> None:
    hostile = row(
        "evil\x1b]0;pwned\x07",
        model_name="[bold red]x[/]\x1b[31m",
        target_repo="\u202erepo\x1b]52;c;AAAA\x07",
        error_message="\x9b2J",
    )
    respx_mock.get(QUEUE).respond(json={"count": 1, "generations": [hostile]})
    for fmt in ((), ("--json",), ("--jsonl",)):
        result = run("list", "--host", HOST, *fmt)
        assert result.exit_code == 0, result.output
        for bad in ("\x1b", "\x07", "\x9b", "\u202e"):
            assert bad not in result.stdout, (fmt, bad)
    table = run("list", "--host", HOST).stdout
    assert "[bold red]x[/]" in table and "evil" in table


@pytest.mark.parametrize("fmt", [(), ("--json",), ("--jsonl",)])
@respx.mock
def test_dropped_and_degraded_rows_are_counted_alike(
    respx_mock: respx.Router, fmt: tuple[str, ...]
) -> None:
    """`count` is the rows printed; what was dropped or degraded is said on stderr in
    every format (and in --json beside the rows)."""
    bad = row("b") | {"enqueued_at": "yesterday"}
    respx_mock.get(QUEUE).respond(
        json={"count": 7, "generations": [row("a"), bad, {"no": "id"}, "junk"]}
    )
    result = run("list", "--host", HOST, *fmt)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "queue-tui: 2 rows dropped (no usable id), 1 row with bad fields (shown as ?)"
    ]
    lines = result.stdout.splitlines()
    if fmt == ("--json",):
        doc = json.loads(result.stdout)
        assert (doc["count"], doc["dropped"], doc["degraded"]) == (2, 2, 1)
        assert len(doc["generations"]) == 2
        assert doc["generations"][1]["invalid_fields"] == {"enqueued_at": '"yesterday"'}
    elif fmt == ("--jsonl",):
        assert [json.loads(line)["generation_id"] for line in lines] == ["a", "b"]
    else:
        assert len(lines) == 3  # header and two rows
        assert lines[2].split()[3] == "?"  # its age: enqueued_at was not a time


@respx.mock
def test_empty_queue_prints_the_header_only(respx_mock: respx.Router) -> None:
    respx_mock.get(QUEUE).respond(json={"count": 0, "generations": []})
    result = run("list", "--host", HOST)
    assert result.exit_code == 0
    assert result.stdout.split() == list(cli.LIST_COLUMNS)


# -- failures: one line on stderr, documented exit code ----------------------------------


@pytest.mark.parametrize(
    ("response", "exit_code", "message"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), 3, "connection refused"),
        (httpx.ReadTimeout("timed out"), 3, "read timeout"),
        (httpx.Response(401), 4, "unauthorised (401): no API token was sent"),
        (httpx.Response(403), 4, "forbidden (403)"),
        (httpx.Response(429, headers={"Retry-After": "9"}), 5, "retry after 9s"),
        (httpx.Response(500, html="<html>boom</html>"), 6, "hub error 500: HTML error page"),
        (httpx.Response(404), 6, "no queue endpoint (404)"),
        (httpx.Response(200, text="nope"), 7, "not JSON"),
        (httpx.Response(200, json={"rows": []}), 7, "unexpected response shape"),
        (httpx.Response(422, json={"error": {"title": "bad folder"}}), 2, "bad folder"),
    ],
)
def test_failure_is_one_stderr_line_and_exit_code(
    response: Any, exit_code: int, message: str
) -> None:
    with respx.mock() as mock:
        route = mock.get(QUEUE)
        if isinstance(response, Exception):
            route.side_effect = response
        else:
            route.return_value = response
        result = run("list", "--host", HOST, "--json")
    assert result.exit_code == exit_code
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("queue-tui: ")
    assert message in lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["wait"], "Missing argument 'ID...'. See 'queue-tui wait --help'."),
        (["list", "--status", "bogus"], "Invalid value for '--status'"),
        (["wait", "a1", "--grace", "soon"], "Invalid value for '--grace'"),
        (["bogus"], "No such command 'bogus'. See 'queue-tui --help'."),
        (["--bogus"], "No such option '--bogus'"),
    ],
)
def test_clicks_own_usage_errors_are_one_line_too(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("queue-tui: ") and message in line


def test_token_over_plain_http_is_refused_before_any_request() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get("http://hub.example.com/api/ai/queue").respond(json={})
        result = run("list", "--host", "http://hub.example.com", "--token", "tok_xyz_123")
    assert not route.called
    assert result.exit_code == 2
    assert "--allow-insecure" in result.stderr and "tok_xyz_123" not in result.stderr


def test_replay_of_a_missing_file_is_a_usage_error(tmp_path: Any) -> None:
    result = run("list", "--replay", str(tmp_path / "nope.jsonl"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


RECORDING = Path(__file__).resolve().parents[1] / "data" / "demo-recording.jsonl"


def test_replayed_rows_are_read_on_the_recordings_clock() -> None:
    """Ages in `list` and event times in `events` are as they were when recorded (the
    recording starts at 2025-11-24 16:00:00 UTC), not measured from today."""
    first = json.loads(RECORDING.read_text().splitlines()[0])
    row = json.loads(first["body"])["generations"][0]
    result = run("list", "--replay", str(RECORDING))
    assert result.exit_code == 0, result.stderr
    line = next(ln for ln in result.stdout.splitlines() if row["generation_id"] in ln)
    expected = fmt_duration(first["t"] - row["enqueued_at"])
    assert f" {expected} " in line, line

    result = run("events", "--replay", str(RECORDING), "--speed", "0", "--jsonl", "--timeout", "1")
    events = [json.loads(ln) for ln in result.stdout.splitlines()]
    assert events and all(first["t"] <= e["at"] < first["t"] + 3600 for e in events)


def test_dashboard_without_a_terminal_points_to_list() -> None:
    result = run("--demo")
    assert result.exit_code == 2
    assert "queue-tui list" in result.stderr


def test_wide_characters_keep_the_table_columns_aligned() -> None:
    from rich.cells import cell_len

    from queue_tui.api.models import Generation
    from queue_tui.cli import format_table

    rows = [
        Generation(
            generation_id="a1",
            model_name="画像モデル",
            media_type="image",
            status="queued",
            enqueued_at=100.0,
        ),
        Generation(
            generation_id="b2",
            model_name="flux",
            media_type="image",
            status="queued",
            enqueued_at=100.0,
        ),
    ]
    lines = format_table(rows, now=160.0).splitlines()
    # The MEDIA column starts at the same terminal cell on every line.
    starts = {
        cell_len(line[: line.index("image" if i else "MEDIA")]) for i, line in enumerate(lines)
    }
    assert len(starts) == 1, lines
