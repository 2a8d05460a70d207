"""The demo hub's history (`GET /api/ai/generations`) and model prices: its order, its
page cap, costs the tests can sum exactly, and a seeded history of exactly N rows."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import httpx

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import HISTORY_PAGE_CAP, create_app
from queue_tui.demo.simulator import DEFAULT_MODELS, QueueSimulator

START = 1_764_000_000.0


async def get(app: Any, path: str, **params: Any) -> httpx.Response:
    transport = StreamingASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as http:
        return await http.get(path, params=params)


def every_row(sim: QueueSimulator, **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        body = sim.history(page=page, page_size=100, **filters)
        rows += body["generations"]
        if page >= body["total_pages"]:
            return rows
        page += 1


def test_a_seeded_history_holds_exactly_n_finished_rows_and_nothing_moves() -> None:
    clock = FakeClock(START)
    sim = QueueSimulator.with_history(2_500, 7, clock)
    first = sim.history(page_size=1000)
    assert first["total_entries"] == 2_500 and first["total_pages"] == 3
    assert Counter(r["status"] for r in every_row(sim)).keys() <= {
        "succeeded",
        "failed",
        "cancelled",
    }
    clock.advance(3600)
    assert sim.history(page_size=1000) == first  # no workload: nothing arrives or finishes
    again = QueueSimulator.with_history(2_500, 7, FakeClock(START))
    assert again.history(page_size=1000) == first  # seeded


def test_the_history_is_newest_first_with_ids_breaking_ties_and_costs_sum_exactly() -> None:
    sim = QueueSimulator.with_history(1_200, 7, FakeClock(START), span=600)
    rows = every_row(sim)
    keys = [(r["enqueued_at"], r["generation_id"]) for r in rows]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == 1_200
    assert len({r["enqueued_at"] for r in rows}) < 1_200  # ties exist, and are ordered
    total = Decimal(sim.history(page_size=1)["total_cost"])
    assert sum(Decimal(r["cost"]) for r in rows) == total
    prices = {m.name: m for m in DEFAULT_MODELS}
    for r in rows:
        spec = prices[r["model_name"]]
        if r["status"] != "succeeded":
            assert r["cost"] == "0.00"
        elif r["media_type"] == "image":
            assert Decimal(r["cost"]) == Decimal(spec.cost_per_image or "")
        else:
            assert Decimal(r["cost"]) == Decimal(spec.cost_per_second or "") * r["duration"]
        assert r["username"] and r["user_id"].startswith("u_")


def test_filters_narrow_the_history_and_its_total() -> None:
    sim = QueueSimulator.with_history(600, 7, FakeClock(START))
    failed = every_row(sim, status="failed")
    assert failed and {r["status"] for r in failed} == {"failed"}
    assert sim.history(status="failed")["total_cost"] == "0.00"
    veo = every_row(sim, model="veo-3-fast")
    body = sim.history(model="veo-3-fast", page_size=1)
    assert body["total_entries"] == len(veo)
    assert Decimal(body["total_cost"]) == sum(Decimal(r["cost"]) for r in veo)


async def test_the_endpoint_caps_pages_checks_its_parameters_and_can_be_absent() -> None:
    sim = QueueSimulator.with_history(250, 7, FakeClock(START))
    app = create_app(sim, events=False)
    body = (await get(app, "/api/ai/generations", page_size=1000, page=3)).json()
    assert (body["page_size"], body["page_number"], body["total_pages"]) == (
        HISTORY_PAGE_CAP,
        3,
        3,
    )
    assert body["count"] == len(body["generations"]) == 50
    default = (await get(app, "/api/ai/generations")).json()
    assert default["page_size"] == 50  # the spec's default
    for params in ({"page": 0}, {"page": "x"}, {"page_size": 0}, {"page_size": 1001}):
        response = await get(app, "/api/ai/generations", **params)
        assert response.status_code == 422, params
    assert (await get(app, "/api/ai/generations", status="lost")).status_code == 422
    app.state.history_enabled = False
    assert (await get(app, "/api/ai/generations")).status_code == 404


async def test_models_have_prices_and_one_past_generation_has_its_cost() -> None:
    sim = QueueSimulator.with_history(20, 7, FakeClock(START))
    app = create_app(sim, events=False)
    veo = (await get(app, "/api/ai/models/veo-3-fast")).json()
    assert veo["model"]["cost_per_second"] == "0.15"
    assert veo["model"]["cost_per_second_with_audio"] == "0.40"
    assert (await get(app, "/api/ai/models/nope")).status_code == 404
    row = sim.history(page_size=1)["generations"][0]
    one = (await get(app, f"/api/ai/generations/{row['generation_id']}")).json()
    assert one == {"generation": row, "status": "success"}


def test_the_embedded_hub_serves_a_history_of_what_it_already_keeps() -> None:
    sim = QueueSimulator.embedded(7, FakeClock(START))
    body = sim.history(page_size=1)
    kept = sum(sim.stats()["status"].values())
    assert body["total_entries"] == kept  # every row it keeps; nothing more stored
