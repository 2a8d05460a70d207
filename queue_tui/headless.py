"""The headless commands' async runners: `events`, `wait`, `cancel`, `resubmit`, `show`,
`history`.

They use the very `Tracker` and `LifecycleWatcher` the dashboard uses, so a script, a CI
log and the screen always agree. Output goes through the `out`/`err` callables (the CLI
passes `click.echo`, which flushes every line, so `tee` and CI logs see lines at once).
Runners return an exit code; hub faults they cannot ride out raise `QueueError`. A
timeout (124) or an id never seen (8) is told in one `queue-tui:` line through `err`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import shutil
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from queue_tui.api.client import CancelOutcome, HistoryUnavailableError, QueueClient
from queue_tui.api.errors import QueueError, RateLimitedError, RequestRejectedError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation, PastGeneration, money_text
from queue_tui.config import Settings
from queue_tui.core import columns
from queue_tui.core.dashboard import BAD_VALUE, bad_fields
from queue_tui.core.history import (
    Grouping,
    HistoryPager,
    HistoryTotals,
    Summary,
    Tally,
    TimeRange,
)
from queue_tui.core.lookup import Found, Lookup, asked_phrase, find, source_phrase
from queue_tui.core.money import format_money
from queue_tui.core.outcomes import LifecycleWatcher
from queue_tui.core.poller import Poller, PollFailed, Snapshot
from queue_tui.core.resubmit import (
    NotResubmittableError,
    Resubmitter,
    can_resubmit,
    rebuild_problem,
    resubmit_body,
    status_refusal,
)
from queue_tui.core.stats import compute_stats, fmt_eta
from queue_tui.core.timefmt import DASH, fmt_duration, fmt_local
from queue_tui.core.tracker import LifecycleEvent, RowState, Tracker
from queue_tui.sanitize import clean, error_headline, safe_url

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NEVER_SEEN = 8
EXIT_TIMEOUT = 124

Line = Callable[[str], None]


class _Loop:
    """The poll loop shared by `events` and `wait`: polls, feeds the watcher, runs the
    event stream beside it, and wakes early when the stream brings news.

    Transient faults (connection refused or reset, timeouts, 5xx, 429, bad JSON) are
    ridden out with the poller's backoff, one stderr line when an outage starts and one
    when it ends; a permanent one (401/403, no endpoint, 422, a redirect, an insecure
    token) raises at once, for the command's exit code."""

    def __init__(
        self,
        client: QueueClient,
        settings: Settings,
        tracker: Tracker,
        *,
        interval: float,
        on_events: Callable[[list[LifecycleEvent]], None],
        err: Line,
        events: bool,
        clock: Callable[[], float],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tracker = tracker
        self.watcher = LifecycleWatcher(
            client,
            tracker,
            interval,
            events=events,
            clock=clock,
            monotonic=monotonic,
            resolve_limit=settings.resolve_limit,
        )
        self.poller = Poller(client, settings.filters, interval=interval, monotonic=monotonic)
        self.interval = interval
        self._on_events = on_events
        self._err = err
        self._monotonic = monotonic
        self.news = asyncio.Event()
        self.successful_polls = 0
        #: monotonic() when the current outage began, or None while the hub answers.
        self._outage_since: float | None = None
        #: What the output raised in the stream's task (stdout closed: `| head`), raised
        #: again by the poll loop so that it ends the command.
        self._output_error: BaseException | None = None

    def _stream_events(self, events: list[LifecycleEvent]) -> None:
        try:
            self._on_events(events)
        except Exception as exc:
            self._output_error = exc
        self.news.set()

    def _raise_output_error(self) -> None:
        if self._output_error is not None:
            raise self._output_error

    def outage_note(self) -> str:
        """'; the hub has not answered for 42s' during an outage, else ''."""
        if self._outage_since is None:
            return ""
        if not self.successful_polls:
            return "; the hub never answered"
        seconds = self._monotonic() - self._outage_since
        if seconds < 1:
            return "; its last request failed"  # not "for 0s": the outage just began
        return f"; the hub has not answered for {fmt_duration(seconds)}"

    def _fault(self, failed: PollFailed) -> None:
        error = failed.error
        if not error.transient:
            raise error
        if self._outage_since is None:
            self._outage_since = self._monotonic()
            self._err(f"queue-tui: {error.message}; retrying with backoff")

    def _answered(self) -> None:
        if self._outage_since is not None:
            lasted = fmt_duration(self._monotonic() - self._outage_since)
            self._outage_since = None
            # A relay is what answered (it says so on every answer), not the hub.
            who = "the relay" if self.poller.client.via_relay else "the hub"
            self._err(f"queue-tui: {who} answers again (after {lasted})")

    async def run(self, after_poll: Callable[[Snapshot | None], bool]) -> None:
        """Poll until `after_poll` returns True (it also runs after stream news)."""
        stream = asyncio.create_task(self.watcher.run_event_stream(self._stream_events))
        try:
            while True:
                outcome = await self.poller.poll_once()
                delay = self.interval
                snapshot: Snapshot | None = None
                if isinstance(outcome, PollFailed):
                    self._fault(outcome)
                    delay = outcome.delay
                else:
                    self._answered()
                    self.successful_polls += 1
                    snapshot = outcome
                    self._on_events(await self.watcher.handle_snapshot(outcome))
                self._raise_output_error()
                if after_poll(snapshot):
                    return
                # Sleep until the next poll, but decide at once on news from the stream.
                clock = asyncio.get_running_loop().time
                next_poll = clock() + delay
                while (remaining := next_poll - clock()) > 0:
                    self.news.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(remaining):  # not wait_for (3.11)
                            await self.news.wait()
                    self._raise_output_error()
                    if self.news.is_set() and after_poll(None):
                        return
        finally:
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await stream


# -- events ---------------------------------------------------------------------------------


async def run_events(
    client: QueueClient,
    settings: Settings,
    *,
    out: Line,
    err: Line,
    jsonl: bool = False,
    until_empty: bool = False,
    timeout: float | None = None,
    interval: float | None = None,
    events: bool = True,
    clock: Callable[[], float] = time.time,
) -> int:
    """One line per lifecycle event until interrupted, `--until-empty` or `--timeout`."""
    tracker = Tracker(linger=settings.linger, clock=clock)

    def emit(events_: list[LifecycleEvent]) -> None:
        for event in events_:
            out(event.to_json() if jsonl else event.format_line())

    loop = _Loop(
        client,
        settings,
        tracker,
        interval=interval or settings.interval,
        on_events=emit,
        err=err,
        events=events,
        clock=clock,
    )

    def done(snapshot: Snapshot | None) -> bool:
        if not until_empty or loop.successful_polls == 0:
            return False
        empty = not any(t.state is RowState.ACTIVE for t in tracker.tracked())
        if snapshot is not None:
            empty = empty and not snapshot.rows
        return empty and not tracker.pending_ids()

    try:
        async with asyncio.timeout(timeout):
            await loop.run(done)
    except TimeoutError:
        line = f"queue-tui: timed out after {_seconds(timeout or 0)}"
        if until_empty:
            unfinished = [
                t.generation_id
                for t in tracker.tracked()
                if t.state in (RowState.ACTIVE, RowState.PENDING)
            ]
            counts = _states_text(_waiting_states(tracker, unfinished))
            line += f" waiting for the queue on {settings.display_host} to empty"
            line += f" ({counts})" if counts else ""
        else:
            line += f" watching {settings.display_host}"
        err(line + loop.outage_note())
        return EXIT_TIMEOUT
    return EXIT_OK


# -- wait ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaitResult:
    generation_id: str
    #: succeeded | failed | cancelled | unknown | never_seen | timeout
    outcome: str
    generation: Generation | None = None
    source: str | None = None
    #: Why the outcome is unknown (outcome "unknown" only).
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "succeeded"

    def to_dict(self) -> dict[str, Any]:
        gen = self.generation
        return {
            "generation_id": self.generation_id,
            "outcome": self.outcome,
            "status": gen.status if gen else None,
            "model_name": gen.model_name if gen else None,
            "media_type": gen.media_type if gen else None,
            "result_url": gen.result_url if gen else None,
            "error": gen.error_message if gen else None,
            "enqueued_at": gen.enqueued_at if gen else None,
            "started_at": gen.started_at if gen else None,
            "completed_at": gen.completed_at if gen else None,
            "source": self.source,
            "reason": self.reason,
        }

    def format_line(self, grace: float) -> str:
        gid = clean(self.generation_id, max_len=80)
        gen = self.generation
        model = clean(gen.model_name, max_len=40) if gen else ""
        head = f"{self.outcome.replace('_', '-'):<10}  {gid}"
        if self.outcome == "never_seen":
            return f"{head}  not listed within {fmt_duration(grace)}"
        parts = [head, model] if model else [head]
        if self.outcome == "succeeded" and gen is not None:
            url = gen.result_url
            parts.append((safe_url(url) or clean(url, max_len=300)) if url else "(no result URL)")
        elif self.outcome == "failed" and gen is not None:
            headline = error_headline(gen.error_message, max_len=300)
            parts.append(f"error: {headline or '(no message)'}")
        elif self.outcome == "unknown":
            parts.append(
                f"finished, outcome unknown: {self.reason}"
                if self.reason
                else "finished, outcome unknown"
            )
        elif self.outcome == "timeout" and gen is not None:
            parts.append(f"still {clean(gen.status, max_len=20)}")
        elif self.outcome == "timeout":
            parts.append("not seen yet")
        return "  ".join(p for p in parts if p)


class _Progress:
    """One self-overwriting line on a terminal's stderr; nothing at all otherwise."""

    def __init__(self, write: Callable[[str], None] | None) -> None:
        self._write = write
        self._shown = False

    def show(self, text: str) -> None:
        if self._write is None:
            return
        width = max(20, shutil.get_terminal_size((80, 24)).columns - 1)
        self._write(f"\r\x1b[K{clean(text, max_len=width)}")
        self._shown = True

    def clear(self) -> None:
        if self._write is not None and self._shown:
            self._write("\r\x1b[K")
            self._shown = False


async def run_wait(
    client: QueueClient,
    settings: Settings,
    ids: Sequence[str],
    *,
    out: Line,
    err: Line,
    timeout: float | None = None,
    fail_fast: bool = False,
    as_json: bool = False,
    grace: float = 30.0,
    interval: float | None = None,
    events: bool = True,
    progress: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> int:
    """Block until every id reaches a terminal status (see the CLI for exit codes).

    `progress`, when given (stderr is a terminal), receives raw text for a one-line
    live status; it is never called otherwise.
    """
    wanted = list(dict.fromkeys(ids))
    tracker = Tracker(linger=settings.linger, clock=clock)
    for gid in wanted:
        tracker.watch(gid)
    results: dict[str, WaitResult] = {}
    bar = _Progress(progress)
    started = monotonic()

    def record(result: WaitResult) -> None:
        results[result.generation_id] = result
        if not as_json:
            bar.clear()
            out(result.format_line(grace))

    def on_events(events_: list[LifecycleEvent]) -> None:
        for event in events_:
            gid = event.generation_id
            if event.is_final and gid in tracker.watched and gid not in results:
                record(
                    WaitResult(gid, event.kind.value, event.generation, event.source, event.reason)
                )

    loop = _Loop(
        client,
        settings,
        tracker,
        interval=interval or settings.interval,
        on_events=on_events,
        err=lambda line: (bar.clear(), err(line)),
        events=events,
        clock=clock,
        monotonic=monotonic,
    )

    def failed() -> bool:
        return any(not r.ok for r in results.values())

    def done(snapshot: Snapshot | None) -> bool:
        if fail_fast and failed():
            return True
        if monotonic() - started >= grace:
            # Never seen only on answers given after the grace: every list without it
            # and get-by-id 404 (a failed request says nothing).
            for gid in tracker.unseen_watched():
                if gid not in results and loop.watcher.never_listed(gid, started + grace):
                    record(WaitResult(gid, "never_seen"))
                    tracker.unwatch(gid)
            if fail_fast and failed():
                return True
        if all(gid in results for gid in wanted):
            return True
        bar.show(_progress_text(tracker, wanted, results, monotonic() - started, clock()))
        return False

    timed_out = False
    try:
        async with asyncio.timeout(timeout):
            await loop.run(done)
    except TimeoutError:
        timed_out = True
    finally:
        bar.clear()
    late = [gid for gid in wanted if gid not in results]
    # The stream can bring the last outcome just as the deadline passes: that is done.
    timed_out = timed_out and bool(late)
    # Counted before the outcomes are recorded: "timeout" is not a state.
    late_counts = _waiting_states(tracker, late)
    if timed_out:
        for gid in late:
            entry = tracker.get(gid)
            record(WaitResult(gid, "timeout", entry.generation if entry else None))
    code = _wait_exit_code(wanted, results, timed_out=timed_out, fail_fast=fail_fast)
    if as_json:
        ordered = [results[g].to_dict() for g in wanted if g in results]
        document = {"exit_code": code, "ok": code == EXIT_OK, "generations": ordered}
        out(json.dumps(document, ensure_ascii=True, default=str))
    host = settings.display_host
    if code == EXIT_TIMEOUT:
        err(_wait_timeout_line(late, late_counts, len(wanted), timeout, host) + loop.outage_note())
    elif code == EXIT_NEVER_SEEN:
        ghosts = [g for g in wanted if results[g].outcome == "never_seen"]
        err(_never_seen_line(ghosts, grace, host))
    return code


def _wait_timeout_line(
    late: list[str], counts: dict[str, int], wanted: int, timeout: float | None, host: str
) -> str:
    """`queue-tui: timed out after 2m00s waiting for 2 of 3 generations on HOST (1 queued,
    1 finishing): ID, ID`; for one id: `... waiting for generation ID on HOST (queued)`."""
    if len(late) == 1:
        what, states = f"generation {_ids(late)}", next(iter(counts))
    else:
        what = (
            f"{len(late)} of {wanted} generations"
            if len(late) < wanted
            else f"{wanted} generations"
        )
        states = _states_text(counts)
    line = f"queue-tui: timed out after {_seconds(timeout or 0)} waiting for {what} on {host}"
    return f"{line} ({states})" + (f": {_ids(late)}" if len(late) > 1 else "")


def _never_seen_line(ghosts: list[str], grace: float, host: str) -> str:
    if len(ghosts) == 1:
        line = f"generation {_ids(ghosts)} was never seen on {host}"
    else:
        line = f"{len(ghosts)} generations were never seen on {host}: {_ids(ghosts)}"
    return f"queue-tui: {line} (in no answer from the hub after the {_seconds(grace)} grace)"


def _seconds(value: float) -> str:
    """A duration the user gave: `1.5s`, `45s`, `2m00s`."""
    return f"{value:g}s" if value < 60 else fmt_duration(value)


def _ids(ids: Sequence[str], shown: int = 3) -> str:
    """`a, b, c and 2 more`."""
    text = ", ".join(clean(gid, max_len=80) for gid in ids[:shown])
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")


def _waiting_states(tracker: Tracker, ids: Sequence[str]) -> dict[str, int]:
    """How many of `ids` are in each state: their status (queued, processing...),
    `finishing` (left the queue, outcome pending) or `not seen yet`."""
    counts: dict[str, int] = {}
    for gid in ids:
        entry = tracker.get(gid)
        if entry is None:
            state = "not seen yet"
        elif entry.state is RowState.PENDING:
            state = "finishing"
        else:
            state = clean(entry.generation.status, max_len=12)
        counts[state] = counts.get(state, 0) + 1
    return counts


def _states_text(counts: dict[str, int]) -> str:
    """`2 queued, 1 finishing`."""
    return ", ".join(f"{n} {state}" for state, n in counts.items())


def _wait_exit_code(
    wanted: list[str], results: dict[str, WaitResult], *, timed_out: bool, fail_fast: bool
) -> int:
    outcomes = [results[g].outcome for g in wanted if g in results]
    bad = [o for o in outcomes if o not in ("succeeded", "never_seen", "timeout")]
    if fail_fast and bad:
        return EXIT_FAILED
    if timed_out:
        return EXIT_TIMEOUT
    if "never_seen" in outcomes:
        return EXIT_NEVER_SEEN
    if bad:
        return EXIT_FAILED
    return EXIT_OK


def _progress_text(
    tracker: Tracker, wanted: list[str], results: dict[str, WaitResult], elapsed: float, now: float
) -> str:
    waiting = [g for g in wanted if g not in results]
    if not waiting:
        return ""
    stats = compute_stats(tracker, now)
    statuses = _waiting_states(tracker, waiting)
    etas = []
    for gid in waiting:
        entry = tracker.get(gid)
        if entry is not None and entry.state is not RowState.PENDING:
            etas.append(stats.eta_for(entry.generation))
    if len(wanted) == 1:
        state = next(iter(statuses))
    else:
        state = f"{len(results)}/{len(wanted)} done · {_states_text(statuses)}"
    known = [e for e in etas if e is not None]
    eta = fmt_eta(max(known)) if known and len(known) == len(etas) else fmt_eta(None)
    return f"waiting: {state} · {fmt_duration(elapsed)} · ETA {eta}"


# -- cancel ---------------------------------------------------------------------------------


async def run_cancel(client: QueueClient, ids: Sequence[str], *, out: Line) -> int:
    """Cancel each id: 0 when every one was cancelled, 1 when any had already finished."""
    any_finished = False
    for gid in dict.fromkeys(ids):
        outcome = await client.cancel(gid)
        if outcome is CancelOutcome.CANCELLED:
            out(f"cancelled {clean(gid, max_len=128)}")
        else:
            any_finished = True
            out(f"{clean(gid, max_len=128)} already finished")
    return EXIT_FAILED if any_finished else EXIT_OK


# -- resubmit ---------------------------------------------------------------------------------

#: The lists `resubmit` looks in after get-by-id: where a resubmittable row is, then the
#: one that tells "already succeeded" from "not found".
RESUBMIT_LISTS = ("failed", "cancelled", "succeeded")
#: Faults after which a POST may have been applied all the same (the answer was lost).
_UNSURE_KINDS = frozenset({"timeout", "unreachable", "server", "bad_payload"})


@dataclass(slots=True)
class ResubmitResult:
    generation_id: str
    #: resubmitted | would_resubmit (--dry-run) | refused | not_found | unknown (the lookup
    #: failed) | error (sending failed: the run stops) | not_sent (after that)
    outcome: str
    status: str | None = None
    new_ids: tuple[str, ...] = ()
    via: str | None = None
    body: dict[str, Any] | None = None
    reason: str | None = None
    #: The fault behind "unknown" or "error" (its exit code).
    fault: QueueError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation_id": self.generation_id,
            "outcome": self.outcome,
            "status": self.status,
            "new_ids": list(self.new_ids),
            "via": self.via,
            "body": self.body,
            "reason": self.reason,
        }


async def run_resubmit(
    client: QueueClient,
    settings: Settings,
    ids: Sequence[str],
    *,
    out: Line,
    err: Line,
    dry_run: bool = False,
    as_json: bool = False,
) -> int:
    """Resubmit each failed or cancelled id (`core.resubmit.Resubmitter`): each new id on
    stdout, one a line (`--dry-run`: each body that would be sent, as JSON, and nothing
    sent). An id that cannot be resubmitted gets one `queue-tui:` line (exit 1); one
    found nowhere, where every source answered, exit 8; a fault stops the run with its
    code, after what was done is printed."""
    wanted = list(dict.fromkeys(ids))
    lookup = await find(client, wanted, filters=settings.filters, statuses=RESUBMIT_LISTS)
    resubmitter = Resubmitter(client)
    results: list[ResubmitResult] = []
    stopped: QueueError | None = None

    def note(line: str) -> None:
        if not as_json:
            err(f"queue-tui: {line}")

    for gid in wanted:
        shown = clean(gid, max_len=80)
        found = lookup.found.get(gid)
        if stopped is not None:
            results.append(ResubmitResult(gid, "not_sent", reason="stopped by the fault above"))
        elif gid in lookup.faults:
            fault = lookup.faults[gid]
            results.append(ResubmitResult(gid, "unknown", reason=fault.message, fault=fault))
        elif found is None:
            results.append(ResubmitResult(gid, "not_found"))
        else:
            result = await _resubmit_one(resubmitter, found, dry_run=dry_run)
            results.append(result)
            if result.outcome == "refused":
                note(f"{shown} not resubmitted: {result.reason}")
            elif result.outcome == "error":
                stopped = result.fault
            elif not as_json and dry_run:
                out(json.dumps(result.body, ensure_ascii=True))
            elif not as_json:
                for new_id in result.new_ids:
                    out(clean(new_id))
    code = _resubmit_exit_code(results)
    if as_json:
        document = {
            "exit_code": code,
            "ok": code == EXIT_OK,
            "dry_run": dry_run,
            "generations": [r.to_dict() for r in results],
        }
        out(json.dumps(document, ensure_ascii=True, default=str))
    final = _resubmit_final_line(results, lookup, settings)
    if final:
        err(final)
    return code


async def _resubmit_one(resubmitter: Resubmitter, found: Found, *, dry_run: bool) -> ResubmitResult:
    gen = found.generation
    gid, status = gen.generation_id, gen.status
    if not can_resubmit(gen):
        return ResubmitResult(gid, "refused", status, reason=status_refusal(gen))
    if dry_run:
        problem = rebuild_problem(gen)
        if problem is not None:
            return ResubmitResult(gid, "refused", status, reason=problem)
        return ResubmitResult(gid, "would_resubmit", status, via="enqueue", body=resubmit_body(gen))
    try:
        done = await resubmitter.resubmit(gen)
    except NotResubmittableError as exc:
        return ResubmitResult(gid, "refused", status, reason=exc.reason)
    except RequestRejectedError as exc:
        # The hub's word on this one (409, 422...): the others may still go.
        return ResubmitResult(gid, "refused", status, reason=f"the hub refused it: {exc.message}")
    except QueueError as exc:
        unsure = "; it may have been resubmitted all the same" if exc.kind in _UNSURE_KINDS else ""
        return ResubmitResult(gid, "error", status, reason=exc.message + unsure, fault=exc)
    return ResubmitResult(gid, "resubmitted", status, done.new_ids, done.via, done.body)


def _resubmit_exit_code(results: list[ResubmitResult]) -> int:
    """A fault's code first (sending, then looking up: nothing can be said of what it
    hid), then 8 (found nowhere), then 1 (one could not be resubmitted)."""
    for outcome in ("error", "unknown"):
        fault = next((r.fault for r in results if r.outcome == outcome and r.fault), None)
        if fault is not None:
            return fault.exit_code
    outcomes = {r.outcome for r in results}
    if "not_found" in outcomes:
        return EXIT_NEVER_SEEN
    if "refused" in outcomes:
        return EXIT_FAILED
    return EXIT_OK


def _resubmit_final_line(
    results: list[ResubmitResult], lookup: Lookup, settings: Settings
) -> str | None:
    """The one line that says why the exit code is what it is (none for 0 and 1)."""
    sent = next((r for r in results if r.outcome == "error"), None)
    if sent is not None:
        left = sum(1 for r in results if r.outcome == "not_sent")
        more = f" ({left} more not sent)" if left else ""
        gid = clean(sent.generation_id, max_len=80)
        return f"queue-tui: resubmitting {gid}: {sent.reason}{more}"
    unknown = [r.generation_id for r in results if r.outcome == "unknown"]
    if unknown:
        fault = lookup.faults[unknown[0]]
        return f"queue-tui: could not look up {_ids(unknown)}: {fault.message}"
    missing = [r.generation_id for r in results if r.outcome == "not_found"]
    if missing:
        return _not_found_line(missing, lookup, settings)
    return None


def _not_found_line(missing: list[str], lookup: Lookup, settings: Settings) -> str:
    host = settings.display_host
    if len(missing) == 1:
        what = f"generation {_ids(missing)} was not found on {host}"
    else:
        what = f"{len(missing)} generations were not found on {host}: {_ids(missing)}"
    filters = settings.filters.with_(status=None, search=None).describe()
    under = f" (lists asked with {clean(filters, max_len=120)})" if filters else ""
    return f"queue-tui: {what} ({asked_phrase(lookup.asked)} answered without it){under}"


# -- show ---------------------------------------------------------------------------------

#: Characters of a request parameter shown on a terminal (whole off one).
SHOW_VALUE_MAX = 300
#: Labels are padded to the longest, up to this.
SHOW_LABEL_MAX = 16


async def run_show(
    client: QueueClient,
    settings: Settings,
    generation_id: str,
    *,
    out: Line,
    err: Line,
    as_json: bool = False,
    whole: bool = True,
    clock: Callable[[], float] = time.time,
) -> int:
    """Print one generation in full (`format_generation`), or with `as_json` the row in
    the spec's field names (`Generation.to_api`). Exit 8 when every source answered
    without it; a fault's code when one could not answer."""
    lookup = await find(client, [generation_id], filters=settings.filters)
    found = lookup.found.get(generation_id)
    if found is not None:
        if as_json:
            out(json.dumps(found.generation.to_api(), ensure_ascii=True, default=str))
        else:
            out(format_generation(found, clock(), whole=whole))
        return EXIT_OK
    fault = lookup.faults.get(generation_id)
    if fault is not None:
        err(f"queue-tui: could not look up {_ids([generation_id])}: {fault.message}")
        return fault.exit_code
    if not lookup.asked:
        err(f"queue-tui: {settings.display_host} offers no way to look a generation up")
        return EXIT_FAILED
    err(_not_found_line([generation_id], lookup, settings))
    return EXIT_NEVER_SEEN


def _when(ts: float | None, now: float) -> str:
    """`2026-11-29 14:03:07 (3m12s ago)`: local time, and how long ago, exact."""
    if ts is None:
        return DASH
    delta = now - ts
    if delta < 0:
        return f"{fmt_local(ts)}  (in {fmt_duration(-delta)})"
    return f"{fmt_local(ts)}  ({fmt_duration(delta)} ago)"


def _param(value: Any, whole: bool) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = str(value)
    return clean(text, multiline=True, max_len=None if whole else SHOW_VALUE_MAX)


def format_generation(found: Found, now: float, *, whole: bool = True) -> str:
    """Every field of one generation, one per line like `gh run view`: status, where it
    was found, id, model, media, target, local times, queue wait and run time (growing
    or final: `columns.durations`), the result URL, the prompt, every request parameter
    and extra field, and the whole error. All hub text cleaned; multi-line values are
    indented under their label. `whole=False` (a terminal) cuts a long parameter."""
    gen = found.generation
    bad = bad_fields(gen)
    rows: list[tuple[str, str]] = []

    def field(label: str, name: str | None, text: str) -> None:
        if name is not None and name in bad:
            raw = clean(gen.invalid_fields.get(name), max_len=None if whole else SHOW_VALUE_MAX)
            text = f"{BAD_VALUE} (the hub sent {raw})"
        rows.append((label, text))

    field("status", "status", columns.status_label(gen.status, max_len=40))
    if not gen.status_reported and "status" not in gen.invalid_fields:
        rows.append(("note", "the hub sent no status (older row shape)"))
    rows.append(("found in", source_phrase(found.source)))
    rows.append(("id", clean(gen.generation_id)))
    field("model", "model_name", clean(gen.model_name))
    field("media", "media_type", clean(gen.media_type))
    rows.append(("target", clean(columns.target_text(gen, bad)) or DASH))
    for name, label in columns.TARGET_PARTS:
        if name in bad:
            field(label, name, "")
    field("enqueued", "enqueued_at", _when(gen.enqueued_at, now))
    field("started", "started_at", _when(gen.started_at, now))
    field("completed", "completed_at", _when(gen.completed_at, now))
    wait, run = columns.durations(gen, now)
    rows.append(("queue wait", wait))
    rows.append(("run time", run))
    if "result_url" in bad:
        field("result", "result_url", "")
    elif gen.result_url:
        rows.append(("result", safe_url(gen.result_url) or clean(gen.result_url)))
    elif gen.status == "succeeded":
        rows.append(("result", "(no result URL)"))
    if "prompt" in bad:
        field("prompt", "prompt", "")
    elif gen.prompt is not None:
        rows.append(("prompt", clean(gen.prompt, multiline=True)))
    for key, value in sorted(gen.params.items(), key=lambda kv: str(kv[0])):
        rows.append((clean(key, max_len=None if whole else 40), _param(value, whole)))
    if "error_message" in bad:
        field("error", "error_message", "")
    elif gen.error_message:
        rows.append(("error", clean(gen.error_message, multiline=True)))

    width = min(SHOW_LABEL_MAX, max(len(label) for label, _ in rows)) + 2
    head = f"{columns.status_label(gen.status, max_len=40)}  {clean(gen.model_name, max_len=80)}"
    lines = [f"{head}  {clean(gen.generation_id, max_len=80)}", ""]
    for label, text in rows:
        first, *rest = text.split("\n") if text else [""]
        lines.append(f"{label.ljust(width - 1)} {first}".rstrip())
        lines.extend((" " * width + line).rstrip() for line in rest)
    return "\n".join(lines)


# -- history ------------------------------------------------------------------------------

HistoryFormat = Literal["table", "json", "jsonl", "csv"]
#: A passing fault (connection, timeout, 5xx, 429, bad JSON) after the first page is asked
#: again this many times, after 1, 2 and 4 s (or the hub's Retry-After, up to a minute),
#: before the command exits with its code: a long listing is not lost to one bad answer.
HISTORY_RETRIES = 3
HISTORY_RETRY_MAX = 60.0
#: `--csv`'s columns: the API's row fields (request parameters are in `--jsonl`).
HISTORY_CSV_FIELDS: tuple[str, ...] = (
    "generation_id",
    "model_name",
    "media_type",
    "status",
    "enqueued_at",
    "started_at",
    "completed_at",
    "cost",
    "error_message",
    "result_url",
    "target_namespace",
    "target_repo",
    "target_directory",
    "user_id",
    "username",
    "user_image",
    "prompt",
)
#: The table's columns: (title, width on a terminal, right-aligned).
HISTORY_COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("ENQUEUED", 19, False),
    ("STATUS", 10, False),
    ("MODEL", 20, False),
    ("COST", 10, True),
    ("USER", 12, False),
    ("ID", 36, False),
    ("ERROR", 60, False),
)
#: A cell spreadsheets would run as a formula starts with one of these (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def run_history(
    client: QueueClient,
    settings: Settings,
    *,
    write: Line,
    err: Line,
    output: HistoryFormat = "table",
    summary_by: Grouping | None = None,
    time_range: TimeRange | None = None,
    page_size: int = 1000,
    whole: bool = True,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> int:
    """`queue-tui history`: the history newest first, page after page, each row written
    as its page arrives (`write` gets whole lines, with their line ends), or with
    `summary_by` one line per group at the end. Memory does not grow with the rows.

    A hub without the history exits 10 (6 when its queue endpoint is missing too: the
    wrong host); a fault it cannot ride out (`HISTORY_RETRIES`) exits with its code,
    after the rows already written, with one `queue-tui:` line saying where it stopped.
    `progress` (stderr is a terminal) gets a self-overwriting page count."""
    pager = HistoryPager(
        client, settings.filters, time_range=time_range or TimeRange(), page_size=page_size
    )
    bar = _Progress(progress)
    summary = Summary() if summary_by else None
    sink = None if summary_by else _HistorySink(output, write, whole)
    try:
        while not pager.done:
            rows = await _next_rows(pager, sleep, lambda: bar.clear())
            bar.show(pager.progress_text())
            if summary is not None:
                for row in rows:
                    summary.add(row)
            elif sink is not None:
                sink.rows(rows)
    except HistoryUnavailableError as exc:
        bar.clear()
        if pager.pages_read == 0 and exc.status_code == 404:
            # No history, or no hub at all: the queue endpoint tells which.
            await client.fetch(QueueFilters(status="queued"))
        err(f"queue-tui: {exc.message}")
        return exc.exit_code
    except QueueError as exc:
        bar.clear()
        if sink is not None:
            sink.stop()
        if not pager.pages_read:
            raise
        of = f" of {pager.hub_pages:,}" if pager.hub_pages else ""
        err(
            f"queue-tui: {exc.message} (at history page {pager.page:,}{of}, "
            f"after {pager.listed.count:,} rows)"
        )
        return exc.exit_code
    bar.clear()
    totals = pager.totals()
    if summary is not None and summary_by is not None:
        _write_summary(summary, summary_by, totals, output, write, whole)
    elif sink is not None:
        sink.end(totals)
    for note in _history_notes(pager):
        err(f"queue-tui: {note}")
    return EXIT_OK


async def _next_rows(
    pager: HistoryPager, sleep: Callable[[float], Awaitable[Any]], before_wait: Callable[[], Any]
) -> list[PastGeneration]:
    for attempt in range(HISTORY_RETRIES + 1):
        try:
            return await pager.next_rows()
        except QueueError as exc:
            # The first page fails as `list` does, at once: nothing is lost yet.
            if not exc.transient or attempt == HISTORY_RETRIES or not pager.pages_read:
                raise
            delay = float(2**attempt)
            if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            before_wait()
            await sleep(min(delay, HISTORY_RETRY_MAX))
    raise AssertionError("unreachable")  # pragma: no cover


def _history_notes(pager: HistoryPager) -> list[str]:
    """What stderr says beside the rows: what was left out, and why, never silently."""
    notes = []
    note = page_note(pager.dropped, pager.degraded)
    if note:
        notes.append(note)
    if pager.untimed:
        notes.append(f"{pager.untimed:,} rows without a usable enqueued_at left out of the range")
    if not pager.order_kept:
        notes.append(
            "the hub's history was not newest first by enqueued_at: the time range was "
            "applied row by row, and rows arriving while listing may repeat"
        )
    if pager.stopped == "stalled":
        notes.append(
            f"stopped at page {pager.pages_read:,}: the hub kept answering rows already listed"
        )
    return notes


def page_note(dropped: int, degraded: int) -> str:
    """'2 rows dropped (no usable id), 1 row with bad fields (shown as ?)' (`list` and
    `history`, on stderr in every format)."""
    parts = []
    if dropped:
        parts.append(f"{dropped:,} row{'s' if dropped != 1 else ''} dropped (no usable id)")
    if degraded:
        parts.append(f"{degraded:,} row{'s' if degraded != 1 else ''} with bad fields (shown as ?)")
    return ", ".join(parts)


def _csv_cell(value: Any) -> str:
    """A value for a spreadsheet: terminal controls stripped (newlines kept, quoted by
    the csv module), and a text a spreadsheet would run as a formula prefixed with `'`."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = clean(value if isinstance(value, str) else json.dumps(value), multiline=True)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _json_line(document: Any) -> str:
    # ASCII only: a control character or bidi override from the hub stays data
    # (`\u001b`), never a terminal sequence.
    return json.dumps(document, ensure_ascii=True, default=str)


class _HistorySink:
    """Writes rows as they come, in one of the formats; `end` writes what follows them."""

    def __init__(self, output: HistoryFormat, write: Line, whole: bool) -> None:
        self.output, self.write, self.whole = output, write, whole
        self.started = False
        #: `--json`: the last row, held back until it is known whether a comma follows.
        self._pending: str | None = None

    def _start(self) -> None:
        if self.started:
            return
        self.started = True
        if self.output == "csv":
            self.write(_csv_text([HISTORY_CSV_FIELDS]))
        elif self.output == "json":
            self.write('{"generations": [\n')
        elif self.output == "table":
            self.write(_table_line([title for title, _, _ in HISTORY_COLUMNS], self.whole))

    def rows(self, rows: Sequence[PastGeneration]) -> None:
        self._start()
        if not rows:
            return
        if self.output == "csv":
            self.write(_csv_text([_csv_row(row) for row in rows]))
        elif self.output == "jsonl":
            self.write("".join(_json_line(row.to_api()) + "\n" for row in rows))
        elif self.output == "json":
            lines = [_json_line(row.to_api()) for row in rows]
            if self._pending is not None:
                lines.insert(0, self._pending)
            self._pending = lines.pop()
            self.write("".join(line + ",\n" for line in lines))
        else:
            self.write("".join(_table_line(_table_cells(row), self.whole) for row in rows))

    def stop(self) -> None:
        """A fault ends the listing: the rows written stay; nothing pretends to end it."""
        if self._pending is not None:
            self.write(self._pending + "\n")
            self._pending = None

    def end(self, totals: HistoryTotals) -> None:
        self._start()
        if self.output == "json":
            last = "" if self._pending is None else self._pending + "\n"
            self.write(last + "], " + _json_line(_totals_document(totals))[1:] + "\n")
        elif self.output == "table":
            self.write("\n" + totals.line() + "\n")


def _totals_document(totals: HistoryTotals) -> dict[str, Any]:
    """`--json`'s figures beside the rows: the listed rows' and, named apart, the hub's."""
    listed = totals.listed
    return {
        "count": listed.count,
        "listed_cost": money_text(listed.spend),
        "without_cost": listed.no_cost,
        "failed": listed.failed,
        "succeeded": listed.succeeded,
        "cancelled": listed.cancelled,
        "total_entries": totals.hub_entries,
        "total_cost": money_text(totals.hub_cost),
        "complete": totals.complete,
        "since": totals.time_range.since,
        "until": totals.time_range.until,
    }


def _csv_row(row: PastGeneration) -> list[Any]:
    api = row.to_api()
    return [_csv_cell(api.get(name)) for name in HISTORY_CSV_FIELDS]


def _table_cells(row: PastGeneration) -> list[str]:
    bad = bad_fields(row)

    def text(name: str, value: str) -> str:
        return BAD_VALUE if name in bad else value

    failed = row.status == "failed" and "error_message" not in bad
    return [
        text("enqueued_at", fmt_local(row.enqueued_at)),
        text("status", clean(row.status)),
        text("model_name", clean(row.model_name)),
        text("cost", format_money(row.cost)),
        text("username", clean(row.username or row.user_id or "")) or DASH,
        clean(row.generation_id),
        error_headline(row.error_message, max_len=None) if failed else "",
    ]


def _table_line(cells: Sequence[str], whole: bool) -> str:
    """One line of the table: fixed widths, known before any row (the rows stream);
    on a terminal long values are cut with `…`, into a file or a pipe printed whole."""
    parts = []
    for cell, (_, width, right) in zip(cells, HISTORY_COLUMNS, strict=True):
        if not whole:
            cell = clean(cell, max_len=width)
        parts.append(cell.rjust(width) if right else cell.ljust(width))
    return "  ".join(parts).rstrip() + "\n"


def _write_summary(
    summary: Summary,
    by: Grouping,
    totals: HistoryTotals,
    output: HistoryFormat,
    write: Line,
    whole: bool,
) -> None:
    """One line per group (`Summary.rows`): count, outcomes, failure rate, spend."""
    groups = summary.rows(by)
    if output in ("json", "jsonl"):
        documents = [{by: key, **_tally_document(tally)} for key, tally in groups]
        if output == "jsonl":
            write("".join(_json_line(d) + "\n" for d in documents))
        else:
            whole_doc = {"by": by, "groups": documents, **_totals_document(totals)}
            write(_json_line(whole_doc) + "\n")
        return
    if output == "csv":
        header = [by, "count", "succeeded", "failed", "cancelled", "failure_rate", "spend"]
        body = [
            [_csv_cell(key), *(_tally_document(tally)[name] for name in header[1:])]
            for key, tally in groups
        ]
        write(_csv_text([header, *body]))
        return
    width = 30
    keys = [clean(key, max_len=None if whole else width) for key, _ in groups]
    key_width = max([len(by), len("(all)"), *(len(k) for k in keys)])
    head = f"{by.upper():<{key_width}}  {'COUNT':>8}  {'FAILED':>7}  {'FAIL%':>6}  {'SPEND':>14}"
    lines = [head]
    for key, (_, tally) in zip(keys, [*groups], strict=True):
        lines.append(_summary_line(key, tally, key_width))
    lines.append(_summary_line("(all)", summary.total, key_width))
    write("\n".join(lines) + "\n\n" + totals.line() + "\n")


def _summary_line(key: str, tally: Tally, key_width: int) -> str:
    rate = tally.failure_rate
    rate_text = DASH if rate is None else f"{rate:.1%}"
    spend = format_money(tally.spend)
    return f"{key:<{key_width}}  {tally.count:>8,}  {tally.failed:>7,}  {rate_text:>6}  {spend:>14}"


def _tally_document(tally: Tally) -> dict[str, Any]:
    rate = tally.failure_rate
    return {
        "count": tally.count,
        "succeeded": tally.succeeded,
        "failed": tally.failed,
        "cancelled": tally.cancelled,
        "failure_rate": None if rate is None else round(rate, 4),
        "spend": money_text(tally.spend),
        "without_cost": tally.no_cost,
    }


__all__ = [
    "EXIT_NEVER_SEEN",
    "EXIT_TIMEOUT",
    "HISTORY_CSV_FIELDS",
    "ResubmitResult",
    "WaitResult",
    "format_generation",
    "run_cancel",
    "run_events",
    "run_history",
    "run_resubmit",
    "run_show",
    "run_wait",
]
