"""A controllable clock for deterministic demos and tests."""

from __future__ import annotations

import threading


class FakeClock:
    """A callable clock that only moves when told to.

    ``clock()`` returns the current time in unix seconds (float), like ``time.time``.
    Thread-safe, so a test thread can move it while a server thread reads it.
    """

    def __init__(self, start: float = 1_764_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    @property
    def now(self) -> float:
        with self._lock:
            return self._now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (negative values are ignored)."""
        with self._lock:
            if seconds > 0:
                self._now += float(seconds)
            return self._now

    def set(self, when: float) -> float:
        """Jump to ``when`` if it is later than the current time."""
        with self._lock:
            self._now = max(self._now, float(when))
            return self._now

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now!r})"
