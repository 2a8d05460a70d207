"""`queue-tui list` against the demo hub over a real loopback socket."""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from queue_tui import cli
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import DemoServer

SPEC = Path(__file__).resolve().parents[1] / "spec" / "queue.openapi.yaml"


pytestmark = pytest.mark.usefixtures("isolated_env")


def page_validator() -> jsonschema.Draft202012Validator:
    """The spec's QueueListResponse, OpenAPI 3.0 `nullable` turned into JSON Schema."""

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: convert(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") is True:
            out["type"] = [out["type"], "null"]
        return out

    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    schema = convert(copy.deepcopy(spec["components"]["schemas"]["QueueListResponse"]))
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


def test_json_validates_against_the_spec_and_matches_the_hub(
    demo_server: DemoServer, fake_clock: FakeClock
) -> None:
    fake_clock.advance(30)
    result = run("list", "--host", demo_server.url, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    page_validator().validate(body)
    expected = demo_server.sim.list()
    assert [r["generation_id"] for r in body["generations"]] == [
        r["generation_id"] for r in expected
    ]
    assert body["count"] == len(expected) > 0


def test_jsonl_and_table(demo_server: DemoServer) -> None:
    lines = run("list", "--host", demo_server.url, "--jsonl").stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["generation_id"] for r in rows] == [
        r["generation_id"] for r in demo_server.sim.list()
    ]
    table = run("list", "--host", demo_server.url).stdout.splitlines()
    assert table[0].split() == list(cli.LIST_COLUMNS)
    assert [line.split()[-1] for line in table[1:]] == [r["generation_id"] for r in rows]


@pytest.mark.parametrize(
    ("args", "filters"),
    [
        (("--status", "failed"), {"status": "failed"}),
        (
            ("--status", "cancelled", "--media-type", "video"),
            {"status": "cancelled", "media_type": "video"},
        ),
        (("--model", "veo-3-fast"), {"model": "veo-3-fast"}),
        (
            ("--namespace", "ox", "--status", "succeeded"),
            {"namespace": "ox", "status": "succeeded"},
        ),
        (("--repo", "storyboards"), {"repo": "storyboards"}),
    ],
)
def test_filters_reach_the_hub(
    demo_server: DemoServer, args: tuple[str, ...], filters: dict[str, str]
) -> None:
    result = run("list", "--host", demo_server.url, *args, "--json")
    assert result.exit_code == 0, result.output
    got = [r["generation_id"] for r in json.loads(result.stdout)["generations"]]
    assert got == [r["generation_id"] for r in demo_server.sim.list(**filters)]
    assert got, "each filter here matches some demo rows"


def test_token_over_loopback_http_is_sent(demo_server: DemoServer) -> None:
    # The demo hub ignores auth; loopback http is allowed to carry a token.
    result = run("list", "--host", demo_server.url, "--token", "tok_loop_123", "--json")
    assert result.exit_code == 0, result.stderr


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_is_one_line_and_exit_3() -> None:
    result = run("list", "--host", f"http://127.0.0.1:{closed_port()}")
    assert result.exit_code == 3
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "connection refused" in line


def test_the_installed_command_end_to_end(demo_server: DemoServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OXEN_CONFIG_DIR": str(tmp_path),
        "QUEUE_TUI_CONFIG": str(tmp_path / "c.toml"),
    }
    env.pop("OXEN_API_KEY", None)
    ok = subprocess.run(
        [sys.executable, "-m", "queue_tui", "list", "--host", demo_server.url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    page_validator().validate(json.loads(ok.stdout))
    failed = subprocess.run(
        [sys.executable, "-m", "queue_tui", "list", "--host", f"http://127.0.0.1:{closed_port()}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert failed.returncode == 3
    assert failed.stdout == ""
    assert len(failed.stderr.splitlines()) == 1


# -- output for scripts and CI logs ---------------------------------------------------------


def target(row: dict[str, Any]) -> str:
    parts = (row.get("target_namespace"), row.get("target_repo"), row.get("target_directory"))
    return "/".join(p for p in parts if p)


def list_command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "queue_tui", "list", "--host", url, *args]


def on_a_terminal(args: list[str]) -> str:
    """What `args` prints with stdout on a pseudo-terminal."""
    import pty  # POSIX only

    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    return b"".join(chunks).decode().replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_list_prints_whole_values_into_a_pipe_and_cuts_them_on_a_terminal(
    demo_server: DemoServer,
) -> None:
    targets = {r["generation_id"]: target(r) for r in demo_server.sim.list()}
    long = {gid: t for gid, t in targets.items() if len(t) > 36}
    assert long, "the seeded demo hub has repo paths wider than the terminal's REPO column"

    piped = subprocess.run(
        list_command(demo_server.url), capture_output=True, text=True, timeout=60
    )
    assert piped.returncode == 0, piped.stderr
    assert "…" not in piped.stdout
    for gid, whole in long.items():
        (line,) = [ln for ln in piped.stdout.splitlines() if gid in ln]
        assert f"  {whole}  " in line

    shown = on_a_terminal(list_command(demo_server.url))
    for gid, whole in long.items():
        (line,) = [ln for ln in shown.splitlines() if gid in ln]
        assert whole not in line
        assert f"  {whole[:35]}…  " in line


@pytest.mark.parametrize("fmt", [[], ["--json"], ["--jsonl"]], ids=["table", "json", "jsonl"])
def test_list_into_a_closed_pipe_is_a_quiet_exit_0(demo_server: DemoServer, fmt: list[str]) -> None:
    """`queue-tui list --jsonl | head -1`: the reader going away is a normal end; nothing
    on stderr (no traceback, no "Exception ignored" at exit)."""
    proc = subprocess.Popen(
        list_command(demo_server.url, *fmt), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the first line is written
    stderr = proc.stderr.read()
    assert (proc.wait(timeout=60), stderr) == (0, b"")


def test_list_of_failed_rows_has_an_error_column_with_each_errors_headline(
    demo_server: DemoServer,
) -> None:
    failed = {r["generation_id"]: r["error_message"] for r in demo_server.sim.list(status="failed")}
    assert any(e.startswith("Traceback") for e in failed.values()), "seeded: some tracebacks"
    result = run("list", "--host", demo_server.url, "--status", "failed")
    assert result.exit_code == 0, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.split() == [*cli.LIST_COLUMNS, "ERROR"]
    column = header.index("ERROR")
    shown = {line.split()[len(cli.LIST_COLUMNS) - 1]: line[column:] for line in lines}
    assert set(shown) == set(failed)
    for gid, error in failed.items():
        lines_of = [ln.strip() for ln in error.splitlines() if ln.strip()]
        expected = lines_of[-1] if error.startswith("Traceback") else lines_of[0]
        assert shown[gid] == expected, gid
    # No failed row printed: no ERROR column.
    active = run("list", "--host", demo_server.url).stdout.splitlines()[0]
    assert active.split() == list(cli.LIST_COLUMNS)
