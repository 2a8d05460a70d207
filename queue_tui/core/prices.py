"""Model prices (`GET /api/ai/models/{id}`), asked once per model per session.

The dashboard's queued cost estimate (`core.stats.estimate_queued_cost`) reads them.
A model the hub has no price for (no such model or endpoint: the client's None, or an
answer without any price) is remembered as such and never asked again; a failed request
(the hub down, a bad answer) is asked again after `RETRY_AFTER` seconds, never turned
into "no price". Models are asked one after another, by whoever calls `fetch` (the
app, in a worker, once the stats panel is open: never on the first frame's path).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping

from queue_tui.api.client import QueueClient
from queue_tui.api.errors import QueueError
from queue_tui.api.models import ModelPrices

log = logging.getLogger(__name__)

#: Seconds before a model whose price request failed is asked again.
RETRY_AFTER = 120.0
#: Models remembered at most: a hub naming a new model on every row must not grow this
#: (or the requests) without end; past it, new models go unpriced.
MODELS_KEPT = 256


class PriceBook:
    """What each model costs, as far as the hub says (`prices`: the models it priced)."""

    def __init__(
        self, client: QueueClient, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self._monotonic = monotonic
        #: Every model answered: its prices, or None (the hub has none for it).
        self._answers: dict[str, ModelPrices | None] = {}
        #: Models whose request failed, and when it may be made again.
        self._retry_at: dict[str, float] = {}
        #: Requests made (for tests: once per model), and whether `fetch` is under way.
        self.requests = 0
        self.busy = False

    @property
    def prices(self) -> Mapping[str, ModelPrices]:
        """The models the hub gave a price for."""
        return {m: p for m, p in self._answers.items() if p is not None}

    def wanted(self, models: Iterable[str]) -> list[str]:
        """Of `models`, those to ask about now (not answered, not failed recently)."""
        now = self._monotonic()
        out: list[str] = []
        room = MODELS_KEPT - len(self._answers) - len(self._retry_at)
        for model in dict.fromkeys(models):
            if not model or model in self._answers:
                continue
            retry = self._retry_at.get(model)
            if retry is not None:
                if now < retry:
                    continue
            elif len(out) >= room:
                continue
            out.append(model)
        return out

    async def fetch(self, models: Iterable[str]) -> bool:
        """Ask the hub about each of `models` still wanted; True when a price was learnt."""
        learnt = False
        self.busy = True
        try:
            for model in self.wanted(models):
                learnt = await self._ask(model) or learnt
        finally:
            self.busy = False
        return learnt

    async def _ask(self, model: str) -> bool:
        """One model's prices; True when the hub gave one."""
        self.requests += 1
        try:
            prices = await self.client.model_prices(model)
        except QueueError as error:
            # Not "no price": asked again later.
            log.info("prices of a model: %s", error.message)
            self._retry_at[model] = self._monotonic() + RETRY_AFTER
            return False
        self._retry_at.pop(model, None)
        priced = prices if prices is not None and prices.any else None
        self._answers[model] = priced
        return priced is not None


__all__ = ["MODELS_KEPT", "RETRY_AFTER", "PriceBook"]
