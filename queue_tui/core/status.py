"""The dashboard's link to the hub and the status bar's state, without Textual.

`Link` is what the polls taught: the last good page (its rows, dropped and degraded
counts, latency, when it came), the failure since (its one-line summary and longer
advice), how many pages and failures so far. `DashboardModel.status_state` joins it with
the poller's state and the rows into a `StatusState`, which `tui/widgets/status_bar.py`
renders; `fault_summary` / `fault_advice` / `retry_phrase` are the words it uses.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from queue_tui.api.errors import AuthError, QueueError, RateLimitedError
from queue_tui.sanitize import clean

if TYPE_CHECKING:
    from queue_tui.api.models import Generation
    from queue_tui.core.poller import PollFailed, Snapshot

#: "updated Ns ago" becomes a warning after this many missed intervals.
STALE_INTERVALS = 3
#: "updated just now" (no seconds count) until this many intervals without a page.
FRESH_INTERVALS = 2
#: A retry in flight this long (seconds) says how long it has waited for an answer.
SLOW_ANSWER = 2.0

#: A sentence that lets the user act on a 401/403 without any token ever being shown.
SET_TOKEN_HINT = "set one with --token or OXEN_API_KEY"
#: Kinds of poll fault the user has to act on (retrying alone will not fix them).
NEEDS_USER = frozenset({"auth", "not_found", "insecure", "rejected"})


def fault_summary(error: QueueError) -> str:
    """The status bar's short sentence for a failed poll (cleaned, one line)."""
    if isinstance(error, RateLimitedError):
        # The countdown next to it already says how long the hub asked us to wait.
        return "rate limited by the hub (429)"
    if isinstance(error, AuthError):
        what = "unauthorised (401)" if error.status_code == 401 else "forbidden (403)"
        source = _short_source(error.token_source)
        if source is None:
            return f"{what}: no API token was sent; {SET_TOKEN_HINT}"
        return f"{what}: the token from {source} was refused; {SET_TOKEN_HINT}"
    return clean(error.message, max_len=200)


def fault_advice(error: QueueError, token_help: str = "") -> str:
    """The longer form, for a toast or an empty table: what happened, what to do."""
    message = clean(error.message, max_len=300)
    if isinstance(error, AuthError):
        if token_help and token_help not in message:
            message = f"{message}; {token_help}"
        return f"{message}. Polling slowed to once a minute: press r after fixing it."
    if error.kind == "not_found":
        return f"{message} Check --host (or QUEUE_TUI_HOST)."
    if error.kind == "insecure":
        # A setting of this run: no retry can work (the poller stops, `STOPS_POLLING`).
        return f"{message}. Polling has stopped: start queue-tui again with either."
    return f"{message}. Retrying with backoff; r retries now."


def _short_source(source: str | None) -> str | None:
    """`oxen CLI config (/long/path)` -> `oxen CLI config`; None when no token was sent."""
    if not source or source.startswith("none"):
        return None
    return clean(source.split(" (", 1)[0], max_len=40)


@dataclass
class StatusState:
    """Everything the status bar shows (`DashboardModel.status_state`)."""

    host: str = ""
    #: The answers come from a `queue-tui serve` relay (its version), not the hub: the
    #: host reads "<host> via relay".
    via_relay: str | None = None
    #: That relay's own link to the hub when it is not ok ("stale 42s (unreachable)"):
    #: "via relay · upstream stale 42s (unreachable)".
    relay_upstream: str | None = None
    paused: bool = False
    #: While paused: rows with changes the screen holds back until `p` resumes.
    waiting: int = 0
    #: The fault sentence of the last poll (`fault_summary`), None once a poll succeeds.
    error: str | None = None
    #: `QueueError.kind` of that fault.
    error_kind: str | None = None
    #: Seconds until the next retry while failing.
    retry_in: float | None = None
    #: No retry until the user asks (r): retrying cannot fix the fault.
    stopped: bool = False
    #: A request is on its way (the countdown says "retrying now").
    in_flight: bool = False
    #: Seconds that request has been waiting for its answer (None: not known).
    in_flight_for: float | None = None
    #: Seconds since the last good page (None: none yet).
    since_ok: float | None = None
    interval: float = 2.0
    latency: float | None = None
    counts: Counter[str] = field(default_factory=Counter)
    shown: int = 0
    total: int = 0
    #: Rows the user marked (`space`), and how many of them the filters (or `h`) hide.
    marked: int = 0
    marked_hidden: int = 0
    dropped: int = 0
    #: Rows of the last page kept with fields of the wrong type (shown as `?`).
    degraded: int = 0
    filters: str = ""
    polls: int = 0
    #: The completion event stream's state (`EventsState` value), None: not shown.
    #: Last on the line: the first thing an 80-column bar gives up; hidden while polls
    #: fail (the stream then flips between retrying and connecting: noise).
    events: str | None = None

    @property
    def stale(self) -> bool:
        """The rows on screen are older than they should be (a fault, or no answer)."""
        if self.since_ok is None or self.paused:
            return False
        return self.error is not None or self.since_ok > STALE_INTERVALS * self.interval

    @property
    def fresh(self) -> bool:
        """A good page came within `FRESH_INTERVALS` intervals: "updated just now"."""
        return (
            self.since_ok is not None
            and not self.stale
            and self.since_ok < FRESH_INTERVALS * self.interval
        )


def paused_phrase(state: StatusState) -> str:
    """`paused`, `paused, 3 changes waiting`."""
    n = state.waiting
    if not n:
        return "paused"
    return f"paused, {n} change{'' if n == 1 else 's'} waiting"


def retry_phrase(state: StatusState) -> str:
    """What the poller is doing about the fault: `retrying in 12s`, `retrying now…`,
    `retrying, no answer for 12s`, `paused (p resumes)`."""
    if state.paused:
        return f"{paused_phrase(state)} (p resumes)"
    if state.stopped and not state.in_flight:
        return "polling stopped (r tries again)"
    if state.in_flight:
        waited = state.in_flight_for
        if waited is not None and waited >= SLOW_ANSWER:
            # The error above is the last attempt's; this one has not answered yet.
            return f"retrying, no answer for {math.floor(waited)}s"
        return "retrying now…"
    if state.retry_in is None or state.retry_in < 0.5:
        return "retrying now…"
    # Rounded up: it says 1s until the retry starts, never "in 0s".
    return f"retrying in {math.ceil(state.retry_in - 0.05)}s"


def data_warnings(state: StatusState) -> list[str]:
    """Rows of the last page the hub garbled: dropped (no usable id), or kept with `?` in
    the cells of a field of the wrong type; the long form first, then shorter ones."""
    dropped, degraded = state.dropped, state.degraded
    rows = "row" if dropped == 1 else "rows"
    if not degraded:
        if not dropped:
            return []
        return [f"⚠ {dropped} malformed {rows} dropped", f"⚠ {dropped} {rows} dropped"]
    if not dropped:
        noun = "row" if degraded == 1 else "rows"
        return [f"⚠ {degraded} {noun} with bad fields", f"⚠ {degraded} with ?"]
    return [
        f"⚠ {dropped} malformed {rows} dropped, {degraded} with bad fields",
        f"⚠ {dropped} dropped, {degraded} with bad fields",
        f"⚠ {dropped} dropped, {degraded} with ?",
    ]


@dataclass
class Link:
    """What the polls taught about the hub (fed by `DashboardModel.page_shown` and
    `page_failed`)."""

    #: The rows of the last good page.
    page_rows: list[Generation] = field(default_factory=list)
    #: Rows of that page without a usable id (dropped), or with fields of the wrong type
    #: (kept; cells show `?`).
    dropped: int = 0
    degraded: int = 0
    latency: float | None = None
    #: App-clock time of the last good page.
    last_ok_at: float | None = None
    #: The failed poll since that page (None once one succeeds), its `fault_summary`
    #: and `fault_advice`.
    failure: PollFailed | None = None
    error: str | None = None
    advice: str | None = None
    #: Pages shown and polls failed so far.
    polls: int = 0
    failures: int = 0

    def page(self, snapshot: Snapshot, now: float) -> None:
        self.page_rows = list(snapshot.rows)
        self.dropped = snapshot.dropped
        self.degraded = snapshot.result.page.degraded
        self.latency = snapshot.result.latency
        self.last_ok_at = now
        self.failure = self.error = self.advice = None
        self.polls += 1

    def failed(self, failure: PollFailed, token_help: str) -> None:
        self.failure = failure
        self.failures += 1
        self.error = fault_summary(failure.error)
        self.advice = fault_advice(failure.error, token_help)
