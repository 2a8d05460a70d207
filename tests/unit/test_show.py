"""Finding one generation wherever the hub keeps it (`core.lookup`), and `show`'s text,
against stubbed HTTP (respx)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from queue_tui.api.client import QUEUE_PATH, QueueClient
from queue_tui.api.errors import NotFoundError, ServerError
from queue_tui.api.models import parse_generation
from queue_tui.config import Settings
from queue_tui.core.lookup import Found, asked_phrase, find
from queue_tui.headless import format_generation, run_show

HOST = "https://hub.test"
NOW = 1_764_000_000
GID = "3f2a9c1d-0000-4000-8000-000000000001"
ITEM = f"{QUEUE_PATH}/{GID}"
HISTORY = f"/api/ai/generations/{GID}"


def settings() -> Settings:
    return Settings(host=HOST, token="tok", token_source="--token")


def row(**kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "generation_id": GID,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "failed",
        "enqueued_at": NOW - 100,
        "started_at": NOW - 90,
        "completed_at": NOW - 60,
        "error_message": "Traceback (most recent call last):\n  File x\nRuntimeError: boom",
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "prompt": "a red fox",
        "seed": 42,
    }
    out.update(kw)
    return out


def page(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(rows), "generations": list(rows)}


def lists(mock: respx.Router, **by_status: list[dict[str, Any]]) -> respx.Route:
    """`GET /api/ai/queue?status=X` answering `by_status[X]` (empty for the others)."""

    def answer(request: httpx.Request) -> httpx.Response:
        status = request.url.params.get("status", "")
        return httpx.Response(200, json=page(*by_status.get(status, [])))

    return mock.get(QUEUE_PATH).mock(side_effect=answer)


# -- where it is found -------------------------------------------------------------------------


@respx.mock(base_url=HOST, assert_all_called=False)
async def test_found_by_id_asks_nothing_else(respx_mock: respx.Router) -> None:
    respx_mock.get(ITEM).respond(json=row(status="processing", completed_at=None))
    listed = lists(respx_mock)
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID])
    assert lookup.found[GID].source == "get"
    assert lookup.found[GID].generation.status == "processing"
    assert listed.call_count == 0


@respx.mock(base_url=HOST, assert_all_called=False)
async def test_a_status_list_row_is_that_status_even_in_the_older_shape(
    respx_mock: respx.Router,
) -> None:
    respx_mock.get(ITEM).respond(404)
    old = {"generation_id": GID, "model": "kling", "prompt": "waves", "enqueued_at": NOW}
    lists(respx_mock, cancelled=[old])
    history = respx_mock.get(HISTORY)
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID], statuses=("failed", "cancelled", "succeeded"))
    found = lookup.found[GID]
    assert (found.source, found.generation.status) == ("status=cancelled", "cancelled")
    assert history.call_count == 0


@respx.mock(base_url=HOST)
async def test_the_history_is_the_last_source(respx_mock: respx.Router) -> None:
    respx_mock.get(ITEM).respond(404)
    lists(respx_mock)
    respx_mock.get(HISTORY).respond(json={"generation": row(), "status": "success"})
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID])
    assert lookup.found[GID].source == "history"
    assert lookup.asked == [
        "get",
        "status=succeeded",
        "status=failed",
        "status=cancelled",
        "history",
    ]


@respx.mock(base_url=HOST)
async def test_nowhere_only_when_every_source_answered(respx_mock: respx.Router) -> None:
    respx_mock.get(ITEM).respond(404)
    lists(respx_mock)
    respx_mock.get(HISTORY).respond(404)
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID])
    assert lookup.nowhere == [GID] and not lookup.faults
    assert asked_phrase(lookup.asked) == (
        "get-by-id, the succeeded, failed and cancelled lists and the history"
    )


@respx.mock(base_url=HOST)
async def test_a_failing_list_is_no_evidence(respx_mock: respx.Router) -> None:
    respx_mock.get(ITEM).respond(404)
    listed = respx_mock.get(QUEUE_PATH)
    listed.side_effect = [
        httpx.Response(200, json=page()),
        httpx.Response(503),
        httpx.Response(200, json=page()),
    ]
    respx_mock.get(HISTORY).respond(404)
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID])
    assert lookup.nowhere == []
    assert isinstance(lookup.faults[GID], ServerError)


@respx.mock(base_url=HOST)
async def test_a_hub_without_the_history_is_asked_without_it(respx_mock: respx.Router) -> None:
    respx_mock.get(ITEM).respond(404)
    lists(respx_mock)
    respx_mock.get(HISTORY).respond(405)
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID])
    assert lookup.nowhere == [GID]
    assert "history" not in lookup.asked


@respx.mock(base_url=HOST)
async def test_without_get_by_id_the_active_lists_are_asked(respx_mock: respx.Router) -> None:
    respx_mock.get(ITEM).respond(405)
    lists(respx_mock, processing=[row(status="processing", completed_at=None)])
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID], history=False)
    assert lookup.found[GID].source == "status=processing"


@respx.mock(base_url=HOST)
async def test_no_queue_endpoint_is_the_wrong_host_not_an_answer(
    respx_mock: respx.Router,
) -> None:
    respx_mock.get(ITEM).respond(404)
    respx_mock.get(QUEUE_PATH).respond(404)
    async with QueueClient(settings()) as client:
        lookup = await find(client, [GID], history=False)
    assert isinstance(lookup.faults[GID], NotFoundError)
    assert lookup.nowhere == []


@respx.mock(base_url=HOST)
async def test_each_list_is_asked_once_for_many_ids(respx_mock: respx.Router) -> None:
    ids = [f"g{i}" for i in range(5)]
    respx_mock.get(url__regex=r".*/api/ai/queue/g\d$").respond(404)
    listed = lists(respx_mock, failed=[row(generation_id=g) for g in ids[:3]])
    respx_mock.get(url__regex=r".*/api/ai/generations/g\d$").respond(404)
    async with QueueClient(settings()) as client:
        lookup = await find(client, ids, statuses=("failed", "cancelled"))
    assert sorted(lookup.found) == ids[:3] and lookup.nowhere == ids[3:]
    assert listed.call_count == 2


# -- run_show ----------------------------------------------------------------------------------


async def show(mock: respx.Router, **kw: Any) -> tuple[int, list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    async with QueueClient(settings()) as client:
        code = await run_show(
            client, settings(), GID, out=out.append, err=err.append, clock=lambda: NOW, **kw
        )
    return code, out, err


@respx.mock(base_url=HOST)
async def test_show_exit_codes(respx_mock: respx.Router) -> None:
    item = respx_mock.get(ITEM).respond(404)
    lists(respx_mock)
    history = respx_mock.get(HISTORY).respond(404)
    code, out, err = await show(respx_mock)
    assert (code, out) == (8, [])
    assert err == [
        f"queue-tui: generation {GID} was not found on {HOST} (get-by-id, the succeeded, "
        "failed and cancelled lists and the history answered without it)"
    ]
    history.respond(502)
    code, out, err = await show(respx_mock)
    assert code == 6 and len(err) == 1 and "could not look up" in err[0]
    item.respond(json=row())
    code, out, err = await show(respx_mock, as_json=True)
    assert code == 0 and err == []
    assert out[0].startswith('{"generation_id": "' + GID)


# -- the text ----------------------------------------------------------------------------------


def text(data: dict[str, Any], source: str = "get", *, whole: bool = True) -> str:
    return format_generation(Found(parse_generation(data), source), NOW, whole=whole)


def labelled(output: str) -> dict[str, str]:
    """The first line of each labelled value."""
    out = {}
    for line in output.splitlines()[2:]:
        if line and not line.startswith(" "):
            label, _, value = line.partition("  ")
            out[label.strip()] = value.strip()
    return out


def test_show_prints_every_field_and_the_whole_error() -> None:
    output = text(row(aspect_ratio="16:9", cost="0.03"), "status=failed")
    lines = output.splitlines()
    assert lines[0] == f"✖ failed  flux-1-dev  {GID}"
    fields = labelled(output)
    assert fields["status"] == "✖ failed"
    assert fields["found in"] == "the failed list"
    assert fields["target"] == "ox/product-shots"
    assert fields["queue wait"] == "10s" and fields["run time"] == "30s"
    assert fields["started"].endswith("(1m30s ago)")
    assert (fields["seed"], fields["aspect_ratio"], fields["cost"]) == ("42", "16:9", "0.03")
    # Every line of the error, each under the label's column.
    error_at = next(i for i, line in enumerate(lines) if line.startswith("error"))
    assert lines[error_at].split(None, 1)[1] == "Traceback (most recent call last):"
    indent = lines[error_at].index("Traceback")
    assert [line[indent:] for line in lines[error_at + 1 :]] == ["  File x", "RuntimeError: boom"]


def test_show_while_running_and_after_success() -> None:
    running = labelled(text(row(status="processing", completed_at=None, error_message=None)))
    assert running["run time"] == "1m"  # still growing: coarse, as everywhere
    done = labelled(
        text(row(status="succeeded", error_message=None, result_url="https://cdn.test/a.png"))
    )
    assert done["result"] == "https://cdn.test/a.png" and "error" not in done
    assert labelled(text(row(status="succeeded", error_message=None)))["result"] == (
        "(no result URL)"
    )


def test_show_cleans_hub_text_and_marks_bad_fields() -> None:
    hostile = row(
        model_name="evil\x1b[31m",
        prompt="line one\x1b]0;title\x07\nline two",
        error_message="bad\x9b2J",
        enqueued_at="yesterday",
        **{"note\x1b[2J": "x\u202e"},
    )
    output = text(hostile)
    assert "\x1b" not in output and "\x9b" not in output and "\u202e" not in output
    fields = labelled(output)
    assert fields["enqueued"] == '? (the hub sent "yesterday")'
    assert fields["queue wait"] == "?"
    assert "line two" in output


def test_show_cuts_only_long_parameters_on_a_terminal() -> None:
    long = row(negative_prompt="n" * 1000, prompt="p" * 1000)
    assert "n" * 1000 in text(long, whole=True)
    cut = text(long, whole=False)
    assert "n" * 1000 not in cut and "n" * 299 + "…" in cut
    assert "p" * 1000 in cut  # the prompt and the error are always whole


@pytest.mark.parametrize(
    ("sources", "phrase"),
    [
        (["get"], "get-by-id"),
        (["status=failed"], "the failed list"),
        (["get", "status=failed", "history"], "get-by-id, the failed list and the history"),
    ],
)
def test_asked_phrase(sources: list[str], phrase: str) -> None:
    assert asked_phrase(sources) == phrase
