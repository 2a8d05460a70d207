"""`queue-tui resubmit` and `queue-tui show` against the demo hub over a real loopback
socket: the bodies the hub received, with and without its retry endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from queue_tui import cli
from queue_tui.demo.server import DemoServer, create_app
from queue_tui.demo.simulator import QueueSimulator

pytestmark = pytest.mark.usefixtures("isolated_env")

#: A request as a user sent it: the spec's parameters, model-specific extras, a target.
ORIGINAL: dict[str, Any] = {
    "model": "flux-1-dev",
    "prompt": "a red fox sitting in fresh snow at dawn",
    "seed": 42,
    "aspect_ratio": "16:9",
    "lora": "film-look",
    "guidance": 3.5,
    "loras": [{"name": "brand-style-v3", "scale": 0.8}],
    "target_namespace": "ox",
    "target_repo": "product-shots",
    "target_directory": "renders/2026-11",
    "num_generations": 1,
}
#: What the hub sets on a row itself: never sent back.
HUB_SET = {
    "generation_id",
    "model_name",
    "media_type",
    "status",
    "enqueued_at",
    "started_at",
    "completed_at",
    "error_message",
    "result_url",
    "retried_from_id",
    "num_generations",
}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


@pytest.fixture
def hub(demo_server: DemoServer) -> Iterator[DemoServer]:
    """The demo hub with the newer retry endpoint."""
    demo_server.app.state.retry_enabled = True
    yield demo_server


@pytest.fixture
def old_hub(demo_server: DemoServer) -> Iterator[DemoServer]:
    """The hub of the spec: no retry endpoint."""
    demo_server.app.state.retry_enabled = False
    try:
        yield demo_server
    finally:
        demo_server.app.state.retry_enabled = True


def cancelled(sim: QueueSimulator, body: dict[str, Any] = ORIGINAL) -> str:
    """A generation enqueued with `body`, then cancelled; the hub's record emptied."""
    (row,) = sim.enqueue(dict(body))
    assert sim.cancel(row["generation_id"])
    sim.received.clear()
    return row["generation_id"]


def a_row(sim: QueueSimulator, status: str | None = None) -> dict[str, Any]:
    return sim.list(status=status)[0]


# -- resubmit ----------------------------------------------------------------------------------


def test_resubmit_without_retry_enqueues_the_original_request(old_hub: DemoServer) -> None:
    sim = old_hub.sim
    gid = cancelled(sim)
    result = run("resubmit", gid, "--host", old_hub.url)
    assert result.exit_code == 0, (result.output, result.stderr)
    (new_id,) = result.stdout.splitlines()
    assert result.stderr == ""
    (received,) = sim.received
    assert received["endpoint"] == "enqueue"
    body = received["body"]
    # Field by field: the request again (one generation), nothing the hub set.
    assert body == {k: v for k, v in ORIGINAL.items() if k != "num_generations"}
    assert not HUB_SET & body.keys()
    new = sim.get(new_id)
    assert new is not None and new["status"] in ("queued", "processing")
    assert (new["prompt"], new["lora"]) == (ORIGINAL["prompt"], "film-look")


def test_resubmit_a_failed_row_sends_what_the_row_carries(old_hub: DemoServer) -> None:
    sim = old_hub.sim
    failed = a_row(sim, "failed")
    result = run("resubmit", failed["generation_id"], "--host", old_hub.url)
    assert result.exit_code == 0, result.stderr
    (received,) = sim.received
    body = received["body"]
    assert body["model"] == failed["model_name"]
    for name in ("prompt", "seed", "aspect_ratio", "target_namespace", "target_repo"):
        assert body[name] == failed[name]
    assert body.get("target_directory") == failed["target_directory"]
    assert not HUB_SET & body.keys()


def test_resubmit_through_the_retry_endpoint(hub: DemoServer) -> None:
    sim = hub.sim
    gid = cancelled(sim)
    result = run("resubmit", gid, "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    (new_id,) = result.stdout.splitlines()
    assert list(sim.received) == [{"endpoint": "retry", "generation_id": gid}]
    new = sim.get(new_id)
    assert new is not None and new["retried_from_id"] == gid
    assert (new["prompt"], new["seed"], new["lora"]) == (ORIGINAL["prompt"], 42, "film-look")


def test_dry_run_prints_the_bodies_and_sends_nothing(hub: DemoServer) -> None:
    sim = hub.sim
    first = cancelled(sim)
    second = cancelled(sim, {**ORIGINAL, "prompt": "a second fox", "seed": None})
    result = run("resubmit", first, second, "--dry-run", "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    bodies = [json.loads(line) for line in result.stdout.splitlines()]
    expected = {k: v for k, v in ORIGINAL.items() if k != "num_generations"}
    assert bodies[0] == expected
    assert bodies[1]["prompt"] == "a second fox" and "num_generations" not in bodies[1]
    assert list(sim.received) == []


def test_rows_that_cannot_be_resubmitted_and_ids_found_nowhere(hub: DemoServer) -> None:
    sim = hub.sim
    succeeded = a_row(sim, "succeeded")["generation_id"]
    gid = cancelled(sim)
    nowhere = "0000dead-0000-4000-8000-000000000000"
    result = run("resubmit", succeeded, gid, nowhere, "--host", hub.url)
    assert result.exit_code == 8
    assert len(result.stdout.splitlines()) == 1  # the one new id
    assert result.stderr.splitlines() == [
        f"queue-tui: {succeeded} not resubmitted: it succeeded (only failed or cancelled "
        "generations can be resubmitted)",
        f"queue-tui: generation {nowhere} was not found on {hub.url} (get-by-id, the failed, "
        "cancelled and succeeded lists and the history answered without it)",
    ]
    assert [r["generation_id"] for r in sim.received] == [gid]
    # Without the id found nowhere: exit 1, one line for the one refused.
    result = run("resubmit", succeeded, "--host", hub.url, "--json")
    assert result.exit_code == 1 and result.stderr == ""
    document = json.loads(result.stdout)
    assert document["generations"][0]["outcome"] == "refused"


def test_resubmit_json_document(old_hub: DemoServer) -> None:
    gid = cancelled(old_hub.sim)
    result = run("resubmit", gid, "--json", "--host", old_hub.url)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["exit_code"], document["ok"], document["dry_run"]) == (0, True, False)
    (entry,) = document["generations"]
    assert (entry["generation_id"], entry["outcome"], entry["via"]) == (
        gid,
        "resubmitted",
        "enqueue",
    )
    assert entry["body"] == old_hub.sim.received[0]["body"] and len(entry["new_ids"]) == 1


def test_read_only_refuses_resubmit(hub: DemoServer, tmp_path: Path) -> None:
    gid = cancelled(hub.sim)
    result = run("--read-only", "resubmit", gid, "--host", hub.url)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "queue-tui: read-only mode: resubmit refused\n"
    (tmp_path / "config.toml").write_text("read_only = true\n")
    result = run("resubmit", gid, "--host", hub.url)
    assert result.exit_code == 2
    # A dry run sends nothing: it is not refused.
    result = run("resubmit", gid, "--dry-run", "--host", hub.url)
    assert result.exit_code == 0 and json.loads(result.stdout)["prompt"] == ORIGINAL["prompt"]
    assert list(hub.sim.received) == []


@pytest.mark.parametrize("command", ["resubmit", "show"])
def test_bad_ids_are_one_line_and_exit_2(demo_server: DemoServer, command: str) -> None:
    result = run(command, "../etc", "--host", demo_server.url)
    assert result.exit_code == 2
    assert result.stderr == "queue-tui: not a generation id: '../etc'\n"


# -- show --------------------------------------------------------------------------------------


def shown(result: Result) -> dict[str, str]:
    fields = {}
    for line in result.stdout.splitlines()[2:]:
        if line and not line.startswith(" "):
            label, _, value = line.partition("  ")
            fields[label.strip()] = value.strip()
    return fields


def test_show_an_active_generation_found_by_id(demo_server: DemoServer) -> None:
    row = a_row(demo_server.sim)
    result = run("show", row["generation_id"], "--host", demo_server.url)
    assert result.exit_code == 0, result.stderr
    fields = shown(result)
    assert fields["found in"] == "get-by-id"
    assert (fields["id"], fields["model"], fields["prompt"]) == (
        row["generation_id"],
        row["model_name"],
        row["prompt"],
    )


def test_show_a_failed_generation_from_the_status_lists(demo_server: DemoServer) -> None:
    sim = demo_server.sim
    failed = next(r for r in sim.list(status="failed") if "\n" in r["error_message"])
    gid = failed["generation_id"]
    result = run("show", gid, "--host", demo_server.url)
    assert result.exit_code == 0, result.stderr
    fields = shown(result)
    assert fields["found in"] == "the failed list"
    assert fields["status"] == "✖ failed"
    # The whole error, every line of it.
    for line in failed["error_message"].splitlines():
        assert line.strip() in result.stdout
    document = json.loads(run("show", gid, "--json", "--host", demo_server.url).stdout)
    assert document == {k: failed[k] for k in document}
    assert set(failed) <= set(document)


def test_show_on_a_hub_of_the_older_row_shape(demo_server: DemoServer) -> None:
    demo_server.app.state.row_shape = "old"
    try:
        gid = a_row(demo_server.sim, "cancelled")["generation_id"]
        result = run("show", gid, "--host", demo_server.url)
    finally:
        demo_server.app.state.row_shape = "spec"
    assert result.exit_code == 0, result.stderr
    assert shown(result)["status"] == "⊘ cancelled"


def test_show_an_id_found_nowhere_exits_8(demo_server: DemoServer) -> None:
    gid = "0000dead-0000-4000-8000-000000000000"
    result = run("show", gid, "--host", demo_server.url)
    assert (result.exit_code, result.stdout) == (8, "")
    assert result.stderr == (
        f"queue-tui: generation {gid} was not found on {demo_server.url} (get-by-id, the "
        "succeeded, failed and cancelled lists and the history answered without it)\n"
    )


def test_a_failing_hub_is_never_not_found(demo_sim: QueueSimulator) -> None:
    # Get-by-id and the history answer 404, the status lists fail: nothing can be said.
    nowhere = "0000dead-0000-4000-8000-000000000000"
    app = create_app(demo_sim, chaos=1.0, chaos_faults=["unavailable"])
    with DemoServer(app) as server:
        for command in ("show", "resubmit"):
            result = run(command, nowhere, "--host", server.url)
            assert result.exit_code == 6, (command, result.stderr)
            (line,) = result.stderr.splitlines()
            assert line.startswith(f"queue-tui: could not look up {nowhere}: hub error 503")
        # A source that answers is enough where the lists fail.
        failed = demo_sim.list(status="failed")[0]["generation_id"]
        result = run("show", failed, "--host", server.url)
        assert result.exit_code == 0
        assert shown(result)["found in"] == "the history"
        assert list(demo_sim.received) == []
