"""`run_history` (the runner behind `queue-tui history`) against stubbed HTTP (respx):
faults mid-listing, the progress line, stderr notes, and the formats' edges."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from queue_tui.api.client import GENERATIONS_PATH, QUEUE_PATH, QueueClient
from queue_tui.api.errors import NotFoundError
from queue_tui.config import Settings
from queue_tui.headless import HISTORY_RETRIES, run_history

HOST = "https://hub.test"
NOW = 1_764_000_000


def settings() -> Settings:
    return Settings(host=HOST, token="tok", token_source="--token")


def page(number: int, pages: int, rows: list[dict[str, Any]], **kw: Any) -> httpx.Response:
    body = {
        "count": len(rows),
        "generations": rows,
        "page_number": number,
        "page_size": 2,
        "total_entries": 2 * pages,
        "total_pages": pages,
        "total_cost": "0.04",
    }
    body.update(kw)
    return httpx.Response(200, json=body)


def row(i: int, **kw: Any) -> dict[str, Any]:
    out = {
        "generation_id": f"g{i}",
        "model_name": "imagen-4",
        "status": "succeeded",
        "enqueued_at": NOW - i,
        "cost": "0.01",
    }
    out.update(kw)
    return out


class Run:
    """What a run wrote: stdout text, stderr lines, progress writes, sleeps."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        self.progress: list[str] = []
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def __call__(self, **kw: Any) -> int:
        async with QueueClient(settings()) as client:
            return await run_history(
                client,
                settings(),
                write=self.out.append,
                err=self.err.append,
                sleep=self.sleep,
                **kw,
            )

    @property
    def stdout(self) -> str:
        return "".join(self.out)


@respx.mock
async def test_a_passing_fault_after_the_first_page_is_asked_again_with_backoff() -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").mock(
        side_effect=[
            page(1, 2, [row(1), row(2)]),
            httpx.Response(503),
            httpx.Response(429, headers={"Retry-After": "7"}),
            page(2, 2, [row(3), row(4)]),
        ]
    )
    run = Run()
    assert await run(output="jsonl") == 0
    assert [json.loads(line)["generation_id"] for line in run.stdout.splitlines()] == [
        "g1",
        "g2",
        "g3",
        "g4",
    ]
    assert run.sleeps == [1.0, 7.0]  # 1 s, then the hub's Retry-After over the 2 s
    assert run.err == []


@respx.mock
async def test_a_fault_that_lasts_ends_the_listing_after_the_rows_written() -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").mock(
        side_effect=[page(1, 5, [row(1), row(2)]), *[httpx.Response(502)] * 10]
    )
    run = Run()
    assert await run(output="json") == 6
    assert run.sleeps == [1.0, 2.0, 4.0][:HISTORY_RETRIES]
    assert run.err == ["queue-tui: hub error 502 (at history page 2 of 5, after 2 rows)"]
    # The rows written stay; the document is left open: the exit code says why.
    assert run.stdout.count('"generation_id"') == 2
    with pytest.raises(json.JSONDecodeError):
        json.loads(run.stdout)


@respx.mock
async def test_the_first_page_fails_at_once_like_list() -> None:
    route = respx.get(f"{HOST}{GENERATIONS_PATH}").respond(503)
    run = Run()
    with pytest.raises(Exception, match="hub error 503"):
        await run()
    assert route.call_count == 1 and run.sleeps == [] and run.out == []


@respx.mock
async def test_404_on_the_history_and_the_queue_is_the_wrong_host() -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").respond(404)
    respx.get(f"{HOST}{QUEUE_PATH}").respond(404)
    with pytest.raises(NotFoundError):
        await Run()()


@respx.mock
async def test_the_progress_line_is_drawn_per_page_and_cleared() -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").mock(
        side_effect=[page(1, 2, [row(1), row(2)]), page(2, 2, [row(3)])]
    )
    run = Run()
    assert await run(output="csv", progress=run.progress.append) == 0
    assert run.progress == [
        "\r\x1b[Khistory: page 1 of 2, 2 rows",
        "\r\x1b[Khistory: page 2 of 2, 3 rows",
        "\r\x1b[K",
    ]


@respx.mock
async def test_rows_left_out_or_degraded_are_told_on_stderr() -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").mock(
        side_effect=[
            page(1, 1, [row(1), {"no": "id"}, row(2, cost="lots"), row(3, enqueued_at=None)]),
        ]
    )
    run = Run()
    from queue_tui.core.history import TimeRange

    assert await run(time_range=TimeRange(since=NOW - 60, label="in a minute")) == 0
    assert run.err == [
        "queue-tui: 1 row dropped (no usable id), 1 row with bad fields (shown as ?)",
        "queue-tui: 1 rows without a usable enqueued_at left out of the range",
    ]
    table = run.stdout.splitlines()
    assert table[2].split()[4] == "?"  # the bad cost
    assert table[-1].startswith("2 generations in a minute, $0.01 (sum of the rows listed;")


@respx.mock
async def test_an_empty_history_is_still_a_whole_document_or_table() -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").mock(
        side_effect=lambda request: page(1, 1, [], total_entries=0, total_cost="0.00")
    )
    run = Run()
    assert await run(output="json") == 0
    document = json.loads(run.stdout)
    assert document["generations"] == [] and document["count"] == 0
    assert document["total_cost"] == "0.00" and document["listed_cost"] == "0.00"
    run = Run()
    assert await run() == 0
    head, blank, totals = run.stdout.splitlines()
    assert head.split() == ["ENQUEUED", "STATUS", "MODEL", "COST", "USER", "ID", "ERROR"]
    assert (blank, totals) == ("", "0 generations, $0.00 (the hub's total for these filters)")
