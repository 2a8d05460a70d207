"""The stats panel's queued cost estimate (`core.stats.estimate_queued_cost`) and the
model prices behind it (`core.prices.PriceBook`): exact decimals, rows in flight only,
silently absent without prices, each model asked once."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from queue_tui.api.errors import QueueError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import ModelPrices, parse_generation
from queue_tui.core.prices import RETRY_AFTER, PriceBook
from queue_tui.core.stats import estimate_queued_cost, row_price

IMAGE = ModelPrices("flux-1-schnell", cost_per_image=Decimal("0.0035"))
VIDEO = ModelPrices("veo-3-fast", cost_per_second=Decimal("0.15"))
PRICES = {p.model: p for p in (IMAGE, VIDEO)}


def row(gid: str, model: str, status: str = "queued", **extra: Any):
    media = "video" if model == "veo-3-fast" else "image"
    return parse_generation(
        {
            "generation_id": gid,
            "model_name": model,
            "media_type": media,
            "status": status,
            "enqueued_at": 1_764_000_000,
            **extra,
        }
    )


class TestRowPrice:
    def test_an_image_costs_its_price_a_video_its_price_per_second_times_its_duration(self):
        assert row_price(row("a", "flux-1-schnell"), IMAGE) == Decimal("0.0035")
        assert row_price(row("b", "veo-3-fast", duration=8), VIDEO) == Decimal("1.20")
        assert row_price(row("c", "veo-3-fast", duration="2.5"), VIDEO) == Decimal("0.375")

    def test_a_video_without_a_usable_duration_has_no_price(self):
        for duration in (None, "", "soon", -5, True, float("nan"), 10**9):
            gen = row("v", "veo-3-fast", **({} if duration is None else {"duration": duration}))
            assert row_price(gen, VIDEO) is None, duration


class TestEstimate:
    def test_the_rows_in_flight_summed_exactly_per_model(self):
        rows = [
            *(row(f"i{n}", "flux-1-schnell") for n in range(3)),
            row("p", "flux-1-schnell", status="processing"),
            row("v1", "veo-3-fast", duration=8),
            row("v2", "veo-3-fast", status="processing", duration=5),
            row("done", "flux-1-schnell", status="succeeded"),
            row("gone", "veo-3-fast", status="failed", duration=8),
        ]
        estimate = estimate_queued_cost(rows, PRICES)
        assert estimate is not None
        assert estimate.by_model["flux-1-schnell"].cost == Decimal("0.0140")  # 4 × 0.0035
        assert estimate.by_model["veo-3-fast"].cost == Decimal("1.95")  # 0.15 × (8 + 5)
        assert estimate.total == Decimal("1.9640")
        assert (estimate.priced, estimate.unpriced) == (6, 0)

    def test_rows_the_prices_cannot_cover_are_counted_apart(self):
        rows = [row("v1", "veo-3-fast", duration=8), row("v2", "veo-3-fast")]
        estimate = estimate_queued_cost(rows, PRICES)
        assert estimate is not None
        assert estimate.total == Decimal("1.20")
        assert (estimate.priced, estimate.unpriced) == (1, 1)

    def test_the_filters_apply(self):
        rows = [row("a", "flux-1-schnell"), row("v", "veo-3-fast", duration=4)]
        estimate = estimate_queued_cost(rows, PRICES, QueueFilters(model="veo-3-fast"))
        assert estimate is not None and list(estimate.by_model) == ["veo-3-fast"]

    def test_without_prices_there_is_no_estimate(self):
        rows = [row("a", "sdxl-turbo"), row("v", "veo-3-fast")]  # unpriced; no duration
        assert estimate_queued_cost(rows, PRICES) is None
        assert estimate_queued_cost(rows, {}) is None


class FakeClient:
    """`model_prices` answers from `prices`; a model in `failing` raises."""

    def __init__(self) -> None:
        self.prices: dict[str, ModelPrices | None] = dict(PRICES)
        self.failing: set[str] = set()
        self.asked: list[str] = []

    async def model_prices(self, model: str) -> ModelPrices | None:
        self.asked.append(model)
        if model in self.failing:
            raise QueueError("the hub is down")
        return self.prices.get(model)


class TestPriceBook:
    def test_each_model_is_asked_once_and_no_price_is_remembered_too(self):
        client = FakeClient()
        book = PriceBook(client)  # type: ignore[arg-type]
        models = ["flux-1-schnell", "veo-3-fast", "sdxl-turbo", "flux-1-schnell"]
        assert asyncio.run(book.fetch(models)) is True
        assert asyncio.run(book.fetch(models)) is False
        assert client.asked == ["flux-1-schnell", "veo-3-fast", "sdxl-turbo"]
        assert set(book.prices) == {"flux-1-schnell", "veo-3-fast"}
        assert book.wanted(models) == []

    def test_a_failed_request_is_not_no_price_and_is_asked_again_later(self):
        client = FakeClient()
        client.failing = {"veo-3-fast"}
        now = [100.0]
        book = PriceBook(client, monotonic=lambda: now[0])  # type: ignore[arg-type]
        asyncio.run(book.fetch(["veo-3-fast"]))
        assert book.prices == {} and book.wanted(["veo-3-fast"]) == []
        client.failing = set()
        now[0] += RETRY_AFTER
        assert book.wanted(["veo-3-fast"]) == ["veo-3-fast"]
        asyncio.run(book.fetch(["veo-3-fast"]))
        assert book.prices["veo-3-fast"] == VIDEO
