"""QueueClient.fetch hands back the last page when the body is byte-identical for the
same query (an idle queue), and parses again whenever anything differs."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from queue_tui.api.client import QUEUE_PATH, THREAD_PARSE_BYTES, QueueClient
from queue_tui.api.errors import BadPayloadError
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings

HOST = "https://hub.test"
NOW = 1_764_000_000


def row(gid: str, **kw: Any) -> dict[str, Any]:
    out = {
        "generation_id": gid,
        "model_name": "flux-dev",
        "media_type": "image",
        "status": "queued",
        "enqueued_at": NOW,
    }
    out.update(kw)
    return out


def body(*rows: dict[str, Any]) -> bytes:
    return json.dumps({"count": len(rows), "generations": list(rows)}).encode()


def responses(*bodies: bytes) -> list[httpx.Response]:
    return [httpx.Response(200, content=b) for b in bodies]


def client() -> QueueClient:
    return QueueClient(Settings(host=HOST, token=None))


@respx.mock(base_url=HOST)
async def test_an_identical_body_returns_the_same_page_objects(respx_mock: respx.Router) -> None:
    same = body(row("a"), row("b", status="processing", started_at=NOW + 5))
    respx_mock.get(QUEUE_PATH).side_effect = responses(same, same)
    async with client() as c:
        first = await c.fetch()
        second = await c.fetch()
    assert second.page is first.page
    assert second.page.generations[0] is first.page.generations[0]
    assert c.pages_parsed == 1
    # The result itself is new: its own time and latency.
    assert second is not first and second.fetched_at >= first.fetched_at


@respx.mock(base_url=HOST)
async def test_a_changed_body_after_an_identical_one_is_parsed_again(
    respx_mock: respx.Router,
) -> None:
    a = body(row("a"), row("b"))
    b = body(row("a"), row("b", status="processing", started_at=NOW + 5))
    respx_mock.get(QUEUE_PATH).side_effect = responses(a, a, b, a)
    async with client() as c:
        pages = [(await c.fetch()).page for _ in range(4)]
    assert pages[1] is pages[0]
    assert pages[2] is not pages[1]
    assert pages[2].generations[1].status == "processing"
    # Only the last page is remembered: going back to `a` parses it again.
    assert pages[3] is not pages[0] and pages[3].generations[1].status == "queued"
    assert c.pages_parsed == 3


@respx.mock(base_url=HOST)
async def test_the_same_body_for_another_query_is_parsed_for_it(
    respx_mock: respx.Router,
) -> None:
    same = body(row("a"))
    respx_mock.get(QUEUE_PATH).side_effect = responses(same, same, same)
    async with client() as c:
        first = await c.fetch()
        other = await c.fetch(QueueFilters(model="flux-dev"))
        again = await c.fetch(QueueFilters(model="flux-dev"))
    assert other.page is not first.page
    assert again.page is other.page
    assert other.filters == QueueFilters(model="flux-dev")
    assert c.pages_parsed == 2


@respx.mock(base_url=HOST)
async def test_a_bad_body_fails_every_time(respx_mock: respx.Router) -> None:
    respx_mock.get(QUEUE_PATH).side_effect = responses(b"not json", b"not json")
    async with client() as c:
        for _ in range(2):
            with pytest.raises(BadPayloadError):
                await c.fetch()
    assert c.pages_parsed == 0


@respx.mock(base_url=HOST)
async def test_big_bodies_parsed_in_a_thread_are_reused_too(respx_mock: respx.Router) -> None:
    rows = [row(f"g{i:05d}", prompt="p" * 200) for i in range(THREAD_PARSE_BYTES // 250 + 10)]
    big = body(*rows)
    assert len(big) > THREAD_PARSE_BYTES
    changed = body(*rows[:-1])
    respx_mock.get(QUEUE_PATH).side_effect = responses(big, big, changed)
    async with client() as c:
        first = await c.fetch()
        second = await c.fetch()
        third = await c.fetch()
    assert second.page is first.page
    assert len(third.page.generations) == len(rows) - 1
    assert c.pages_parsed == 2


@respx.mock(base_url=HOST)
async def test_rows_equal_to_the_last_pages_are_its_objects(respx_mock: respx.Router) -> None:
    a = body(row("a"), row("b"), row("c", seed=1))
    b = body(row("a"), row("b", status="processing", started_at=NOW + 5), row("c", seed=2))
    respx_mock.get(QUEUE_PATH).side_effect = responses(a, b)
    async with client() as c:
        first = (await c.fetch()).page.generations
        second = (await c.fetch()).page.generations
    assert second[0] is first[0], "unchanged: the same object"
    assert second[1] is not first[1] and second[1].status == "processing"
    assert second[2] is not first[2] and second[2].params == {"seed": 2}, "extras count"
    assert c.rows_kept == 1


@respx.mock(base_url=HOST)
async def test_each_query_keeps_its_own_last_page(respx_mock: respx.Router) -> None:
    view = body(row("a"), row("b"))
    finished = body(row("z", status="succeeded", completed_at=NOW + 9))
    respx_mock.get(QUEUE_PATH).side_effect = responses(view, finished, view)
    async with client() as c:
        first = await c.fetch()
        await c.fetch(QueueFilters(model="other"))
        again = await c.fetch()
    # A status list asked for in between does not make the view's page be parsed again.
    assert again.page is first.page
    assert c.pages_parsed == 2


@respx.mock(base_url=HOST)
async def test_lists_of_finished_rows_are_not_kept(respx_mock: respx.Router) -> None:
    finished = body(row("z", status="succeeded", completed_at=NOW + 9))
    respx_mock.get(QUEUE_PATH).side_effect = responses(finished, finished)
    async with client() as c:
        first = await c.fetch(QueueFilters(status="succeeded"))
        second = await c.fetch(QueueFilters(status="succeeded"))
    # Asked for to resolve rows or seed history: parsed each time, never held on to.
    assert second.page is not first.page
    assert c.pages_parsed == 2 and not c._last_pages
