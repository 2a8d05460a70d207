"""The poll loop: one request in flight, interval, backoff with full jitter, Retry-After.

Headless: it hands `Snapshot` or `PollFailed` objects to a callback and knows nothing of
the screen. The dashboard runs `Poller.run` in one long-lived worker; tests drive
`poll_once` and `next_delay` directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from queue_tui.api.client import FetchResult, QueueClient
from queue_tui.api.errors import AuthError, QueueError, RateLimitedError
from queue_tui.api.filters import QueueFilters

log = logging.getLogger(__name__)

DEFAULT_BACKOFF_CAP = 60.0
#: After a 401/403 the poller stops hammering: one slow retry per this many seconds,
#: until the user refreshes (new token, or the hub fixed).
AUTH_RETRY_DELAY = 60.0
#: Faults that retrying cannot fix (the token refused over plain http: a setting of this
#: run): the poller stops until the user asks again (`refresh_now`, the dashboard's r).
STOPS_POLLING = frozenset({"insecure"})


def backoff_delay(
    interval: float,
    failures: int,
    error: QueueError,
    *,
    cap: float = DEFAULT_BACKOFF_CAP,
    rng: random.Random,
) -> float:
    """Seconds to wait after `failures` consecutive failures (this one included): full
    jitter between the interval and an exponentially growing ceiling, at least the
    hub's Retry-After, and one slow retry a minute after a 401/403. The one backoff
    rule: the poller and the outcome resolver both use it."""
    if isinstance(error, AuthError):
        return max(AUTH_RETRY_DELAY, interval)
    cap = max(cap, interval)
    ceiling = min(cap, interval * (2 ** min(failures, 16)))
    delay = rng.uniform(interval, max(interval, ceiling))
    if isinstance(error, RateLimitedError) and error.retry_after is not None:
        delay = max(delay, error.retry_after)
    return delay


@dataclass(frozen=True, slots=True)
class Snapshot:
    result: FetchResult

    @property
    def rows(self):
        return self.result.page.generations

    @property
    def dropped(self) -> int:
        return len(self.result.page.dropped)


@dataclass(frozen=True, slots=True)
class PollFailed:
    error: QueueError
    #: Consecutive failures so far, this one included.
    attempt: int
    #: Seconds until the next try (`math.inf`: none until the user asks, `stopped`).
    delay: float
    #: `time.monotonic()` of the next try, for a "retrying in Ns" countdown.
    next_try_at: float = field(default=0.0)

    @property
    def stopped(self) -> bool:
        """Retrying cannot fix this fault: the poller waits for `refresh_now`."""
        return math.isinf(self.delay)


PollOutcome = Snapshot | PollFailed
Callback = Callable[[PollOutcome], Awaitable[None] | None]


class Poller:
    def __init__(
        self,
        client: QueueClient,
        filters: QueueFilters | None = None,
        *,
        interval: float = 2.0,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._filters = filters or QueueFilters()
        self.interval = interval
        self.backoff_cap = max(backoff_cap, interval)
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        self._wake = asyncio.Event()
        self.paused = False
        self.failures = 0
        self.requests = 0
        self.in_flight = False
        #: `monotonic()` when the request in flight was sent (None: none in flight).
        self.in_flight_since: float | None = None
        self.next_poll_at: float | None = None
        self.last_outcome: PollOutcome | None = None

    # -- control (called from the UI) --------------------------------------------------

    @property
    def filters(self) -> QueueFilters:
        return self._filters

    def set_filters(self, filters: QueueFilters) -> None:
        """New filters: poll at once if the server-side part changed."""
        changed = filters.server_key() != self._filters.server_key()
        self._filters = filters
        if changed:
            self.refresh_now()

    def refresh_now(self) -> None:
        """Cut the current wait short (also during a backoff or an auth pause)."""
        self._wake.set()

    def pause(self) -> None:
        self.paused = True
        self._wake.set()

    def resume(self) -> None:
        self.paused = False
        self._wake.set()

    def toggle_pause(self) -> bool:
        if self.paused:
            self.resume()
        else:
            self.pause()
        return self.paused

    # -- the loop ------------------------------------------------------------------------

    def next_delay(self, error: QueueError | None) -> float:
        """Seconds to wait after an outcome; `self.failures` already counts this one.
        `math.inf` after a fault in `STOPS_POLLING`: no retry until `refresh_now`."""
        if error is None:
            return self.interval
        if error.kind in STOPS_POLLING:
            return math.inf
        return backoff_delay(
            self.interval, self.failures, error, cap=self.backoff_cap, rng=self._rng
        )

    async def poll_once(self) -> PollOutcome:
        """One request; never raises for hub faults."""
        filters = self._filters
        self.in_flight = True
        self.in_flight_since = self._monotonic()
        self.requests += 1
        try:
            result = await self.client.fetch(filters)
        except QueueError as error:
            self.failures += 1
            delay = self.next_delay(error)
            log.info(
                "poll failed (%s, attempt %d): retry in %.1fs", error.kind, self.failures, delay
            )
            outcome: PollOutcome = PollFailed(
                error=error,
                attempt=self.failures,
                delay=delay,
                next_try_at=self._monotonic() + delay,
            )
        else:
            self.failures = 0
            outcome = Snapshot(result)
        finally:
            self.in_flight = False
            self.in_flight_since = None
        self.last_outcome = outcome
        return outcome

    async def run(self, callback: Callback) -> None:
        """Poll until cancelled. The callback sees every outcome."""
        while True:
            if self.paused:
                self.next_poll_at = None
                self._wake.clear()
                await self._wake.wait()
                continue
            self._wake.clear()
            outcome = await self.poll_once()
            if (
                isinstance(outcome, Snapshot)
                and outcome.result.filters.server_key() != self._filters.server_key()
            ):
                # The filters changed while the request was in flight: that page answers
                # a question nobody is asking any more. Ask the new one at once.
                continue
            result = callback(outcome)
            if asyncio.iscoroutine(result):
                await result
            delay = self.interval if isinstance(outcome, Snapshot) else outcome.delay
            if math.isinf(delay):
                # Retrying cannot fix it: no timer, the next try is the user's (r).
                self.next_poll_at = None
                await self._wake.wait()
                continue
            self.next_poll_at = self._monotonic() + delay
            if self._wake.is_set():
                continue
            # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` can swallow a
            # cancellation that lands as the event is set, and the loop would not end.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
