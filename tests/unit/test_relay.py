"""The relay's parts without sockets: replay buffer, event mapping, viewer tokens, binds,
metrics labels, the shared upstream cache, and `serve`'s refusals."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from queue_tui.api.errors import UnreachableError
from queue_tui.api.models import parse_generation
from queue_tui.api.wire import format_sse
from queue_tui.cli import main
from queue_tui.core.tracker import EventKind, LifecycleEvent
from queue_tui.relay.app import (
    BindError,
    ViewerTokenError,
    ViewerTokens,
    check_bind,
    parse_bind,
)
from queue_tui.relay.metrics import MAX_MODELS, OTHER, RelayMetrics
from queue_tui.relay.state import OUTCOME_EVENT, EventLog, Upstream, hub_event


def _event(kind: EventKind, **row: object) -> LifecycleEvent:
    gen = parse_generation(
        {
            "generation_id": "g1",
            "model_name": "flux-1-dev",
            "media_type": "image",
            "status": kind.value if kind.is_final else "processing",
            "enqueued_at": 100,
            "started_at": 130,
            "completed_at": 190,
            **row,
        }
    )
    return LifecycleEvent(kind, "g1", 190.0, gen, reason="not in the lists" if row else None)


# -- the replay buffer -----------------------------------------------------------------------


def test_replay_after_an_id_is_exactly_what_came_later() -> None:
    log = EventLog("run", kept=5)
    items = [log.publish("e", {"n": n}) for n in range(8)]
    after, gap = log.since(log.event_id(items[4]))
    assert [i.data["n"] for i in after] == [5, 6, 7]
    assert not gap


def test_an_id_older_than_the_buffer_or_another_run_is_a_gap() -> None:
    log = EventLog("run", kept=5)
    items = [log.publish("e", {"n": n}) for n in range(8)]
    after, gap = log.since(log.event_id(items[1]))  # 3..7 kept: 2 is gone
    assert gap and [i.data["n"] for i in after] == [3, 4, 5, 6, 7]
    assert log.since(log.event_id(items[2])) == (items[3:], False)  # 3 is the next: whole
    assert log.since("another-3")[1]
    assert log.since("garbage")[1]
    assert log.since(None) == ([], False)


def test_a_viewer_too_slow_to_keep_up_is_ended_not_buffered_forever() -> None:
    async def go() -> list:
        log = EventLog("run", queue_size=3)
        queue = log.subscribe()
        for n in range(5):
            log.publish("e", {"n": n})
        got = []
        while not queue.empty():
            got.append(queue.get_nowait())
        return [got, log.viewers]

    got, viewers = asyncio.run(go())
    assert got[-1] is None and viewers == 0


def test_sse_messages_have_an_id_and_one_line_of_json() -> None:
    text = format_sse("media_generation_completed", {"error": "a\nb"}, "run-3").decode()
    assert text == ('id: run-3\nevent: media_generation_completed\ndata: {"error":"a\\nb"}\n\n')


# -- outcomes as events -------------------------------------------------------------------


def test_succeeded_and_failed_are_the_hubs_completion_event() -> None:
    name, data = hub_event(_event(EventKind.SUCCEEDED, result_url="https://x/y.png"))  # type: ignore[misc]
    assert name == "media_generation_completed"
    assert data == {
        "generation_id": "g1",
        "status": "succeeded",
        "media_type": "image",
        "model": "flux-1-dev",
        "url": "https://x/y.png",
    }
    name, data = hub_event(_event(EventKind.FAILED, error_message="OOM"))  # type: ignore[misc]
    assert (name, data["error"]) == ("media_generation_completed", "OOM")


def test_cancelled_and_unknown_are_the_relays_own_event() -> None:
    for kind in (EventKind.CANCELLED, EventKind.UNKNOWN):
        name, data = hub_event(_event(kind, error_message=None))  # type: ignore[misc]
        assert name == OUTCOME_EVENT and data["status"] == kind.value
    assert hub_event(_event(EventKind.STARTED)) is None


# -- metrics ------------------------------------------------------------------------------


def test_metrics_count_outcomes_and_time_them_without_ids() -> None:
    metrics = RelayMetrics()
    metrics.observe_events([_event(EventKind.SUCCEEDED), _event(EventKind.STARTED)])
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}
    total = [
        s for s in families["queue_tui_generations_finished"].samples if s.name.endswith("_total")
    ]
    assert [(s.labels, s.value) for s in total] == [
        ({"model": "flux-1-dev", "media_type": "image", "outcome": "succeeded"}, 1.0)
    ]
    wait = {
        s.labels["le"]: s.value
        for s in families["queue_tui_generation_queue_wait_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert wait["15.0"] == 0 and wait["30.0"] == 1  # 30 s in the queue
    assert "1800.0" in wait  # buckets reach half an hour and beyond
    assert "g1" not in metrics.exposition().decode()


def test_model_labels_are_capped_and_cleaned() -> None:
    metrics = RelayMetrics()
    names = {metrics.model(f"m{n}") for n in range(MAX_MODELS + 10)}
    assert len(names) == MAX_MODELS + 1 and OTHER in names
    assert "\x1b" not in RelayMetrics().model("evil\x1b[31m")


# -- viewer tokens and binds -----------------------------------------------------------------


def test_viewer_tokens_name_who_asked(tmp_path) -> None:
    path = tmp_path / "viewers"
    path.write_text("# the team\nalice: aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb\n")
    tokens = ViewerTokens.load(path)
    assert tokens.who("Bearer aaaaaaaaaaaaaaaaaaaa") == "alice"
    assert tokens.who("bearer bbbbbbbbbbbbbbbbbbbb") == "line 3"
    assert tokens.who("Bearer aaaa") is None
    assert tokens.who(None) is None


@pytest.mark.parametrize(
    "text", ["", "# nothing\n", "alice:short\n"], ids=["empty", "comments", "short"]
)
def test_unusable_viewer_token_files_are_refused(tmp_path, text: str) -> None:
    path = tmp_path / "viewers"
    path.write_text(text)
    with pytest.raises(ViewerTokenError, match="--viewer-token-file"):
        ViewerTokens.load(path)


def test_binds() -> None:
    assert parse_bind("127.0.0.1:8790") == ("127.0.0.1", 8790)
    assert parse_bind("[::1]:9") == ("::1", 9)
    with pytest.raises(BindError):
        parse_bind("8790")
    check_bind("127.0.0.1", tokens=None, public=False)
    check_bind("localhost", tokens=None, public=False)
    check_bind("0.0.0.0", tokens=None, public=True)
    with pytest.raises(BindError, match="--viewer-token-file"):
        check_bind("0.0.0.0", tokens=None, public=False)


def test_serve_refuses_a_non_loopback_bind_without_viewer_tokens() -> None:
    result = CliRunner().invoke(main, ["serve", "--demo", "--bind", "0.0.0.0:8790"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("queue-tui: --bind 0.0.0.0")


def test_serve_refuses_a_missing_token_file(tmp_path) -> None:
    missing = tmp_path / "nope"
    result = CliRunner().invoke(main, ["serve", "--demo", "--viewer-token-file", str(missing)])
    assert result.exit_code == 2
    assert result.stderr.startswith("queue-tui: --viewer-token-file")
    assert len(result.stderr.splitlines()) == 1


# -- the shared upstream cache ---------------------------------------------------------------


def test_upstream_asks_once_for_many_viewers_and_not_again_within_the_ttl() -> None:
    now = [0.0]
    calls = []

    async def fetch() -> str:
        calls.append(1)
        await asyncio.sleep(0.01)
        return "page"

    async def go() -> list[str]:
        upstream = Upstream(ttl=2.0, monotonic=lambda: now[0])
        answers = await asyncio.gather(*(upstream.ask(("q",), fetch) for _ in range(20)))
        now[0] = 1.0
        answers.append(await upstream.ask(("q",), fetch))
        now[0] = 3.0
        answers.append(await upstream.ask(("q",), fetch))
        return answers

    assert asyncio.run(go()) == ["page"] * 22
    assert len(calls) == 2


def test_upstream_faults_are_not_kept() -> None:
    calls = []

    async def fail() -> str:
        calls.append(1)
        raise UnreachableError("down")

    async def go() -> None:
        upstream = Upstream(ttl=60.0)
        for _ in range(2):
            with pytest.raises(UnreachableError):
                await upstream.ask(("q",), fail)

    asyncio.run(go())
    assert len(calls) == 2


# -- the deployment kit ----------------------------------------------------------------------


def test_the_deployment_kit_names_only_metrics_the_relay_exports() -> None:
    import json
    import re
    from pathlib import Path

    import yaml

    deploy = Path(__file__).resolve().parents[2] / "deploy"
    rules = yaml.safe_load((deploy / "alert-rules.yml").read_text())
    dashboard = json.loads((deploy / "grafana-dashboard.json").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    exprs += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exported = {
        f.name for f in text_string_to_metric_families(RelayMetrics().exposition().decode())
    }
    used = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for expr in exprs
        for name in re.findall(r"queue_tui_\w+", expr)
    }
    assert used and used <= exported, used - exported
