"""Actions on many rows (cancel, resubmit), without Textual.

What a key acts on (`plan_cancel`, `plan_resubmit`: the marked rows when there are any,
else the selected one, as the app decides; the rows the action cannot apply to are left
out and counted), what the confirmation lists (`Plan.preview`), the requests, a few at
a time (`run_each`), each result landing in the dashboard model as it arrives (its row
shows it at once), and the one summary after (`Tally.summary`: "7 cancelled, 2 already
finished, 1 failed: <error>"). The app only asks, shows and re-renders.

Marks of the rows acted on go once the hub has answered; a row whose request failed
stays marked (pressing the key again retries it), and so does a row left out, for the
next action (a failed row marked with queued ones: `R` resubmits it, `C` cancels them).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from queue_tui.api.client import CancelOutcome
from queue_tui.api.errors import QueueError
from queue_tui.api.models import ACTIVE_STATUSES, Generation, valid_id
from queue_tui.core.columns import status_label
from queue_tui.core.dashboard import DashboardModel, Toast, model_name, short_id
from queue_tui.core.resubmit import can_resubmit
from queue_tui.sanitize import clean, error_headline

if TYPE_CHECKING:
    from queue_tui.core.resubmit import Resubmitted

log = logging.getLogger(__name__)

#: Requests in flight at once: a bulk action never floods the hub (nor the poller's
#: connections).
CONCURRENCY = 4
#: Rows the confirmation lists before "and N more".
PREVIEW_ROWS = 5
#: Characters of an error's headline in the summary.
SUMMARY_ERROR_MAX = 100
SUMMARY_TIMEOUT = 10.0


class Kind(enum.Enum):
    CANCEL = "cancel"
    RESUBMIT = "resubmit"


#: Why a row is left out of an action, as the confirmation and the summary say it.
FINISHED = "already finished"
NOT_RESUBMITTABLE = "not failed or cancelled"
ALREADY_RESUBMITTED = "already resubmitted in this session"
BUSY = "already being acted on"
BAD_ID = "without a usable id"


class PreviewRow(NamedTuple):
    """One row of the confirmation's list (cleaned text)."""

    model: str
    short_id: str
    status: str


@dataclass(frozen=True)
class Plan:
    """What an action would act on."""

    kind: Kind
    #: The rows it acts on, in the order the table lists them.
    targets: tuple[Generation, ...]
    #: Rows left out, by why (`FINISHED`, `NOT_RESUBMITTABLE`...).
    skipped: tuple[tuple[str, int], ...] = ()
    #: It acts on the marked rows (else on the selected one).
    from_marks: bool = False
    #: Targets the view hides (filters, `h`): marked, then filtered away.
    hidden: int = 0
    #: The selected row as a toast names it (`model · short id`; no marks).
    subject: str = ""

    @property
    def count(self) -> int:
        return len(self.targets)

    @property
    def skipped_count(self) -> int:
        return sum(n for _, n in self.skipped)

    def preview(self, limit: int = PREVIEW_ROWS) -> tuple[list[PreviewRow], int]:
        """The first `limit` targets as the confirmation lists them, and how many more."""
        shown = [
            PreviewRow(model_name(g), short_id(g.generation_id), status_label(g.status))
            for g in self.targets[:limit]
        ]
        return shown, max(0, self.count - limit)

    def notes(self) -> list[str]:
        """What the confirmation says besides the list: rows left out, rows hidden."""
        lines = [f"{_rows(n)} skipped: {why}." for why, n in self.skipped]
        if self.hidden:
            n = self.hidden
            verb, it = ("is", "it") if n == 1 else ("are", "them")
            lines.append(f"{n} of the {self.count} {verb} not shown (the filters or h hide {it}).")
        return lines

    def nothing_message(self) -> str:
        """Why there is nothing to do (no targets)."""
        verb = "cancel" if self.kind is Kind.CANCEL else "resubmit"
        if not self.skipped:
            return f"Nothing selected to {verb}"
        if len(self.skipped) == 1:
            ((why, n),) = self.skipped
            if self.from_marks:
                subject = "the marked row is" if n == 1 else f"the {n} marked rows are"
            else:
                subject = f"{self.subject} is"
            return f"Nothing to {verb}: {subject} {why}"
        reasons = "; ".join(f"{_rows(n)} {why}" for why, n in self.skipped)
        return f"Nothing to {verb} among the marked rows: {reasons}"


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _plan(
    kind: Kind,
    model: DashboardModel,
    selected: Generation | None,
    why_not: Callable[[Generation], str | None],
    order: Sequence[str] = (),
) -> Plan:
    from_marks = selected is None and bool(model.marked)
    rows = model.marked_rows() if from_marks else [selected] if selected is not None else []
    if order and len(rows) > 1:
        # In the table's order; rows it does not show (filtered away) after them.
        position = {gid: i for i, gid in enumerate(order)}
        end = len(position)
        rows.sort(key=lambda g: position.get(g.generation_id, end))
    targets: list[Generation] = []
    skipped: Counter[str] = Counter()
    busy = model.acting_on
    for gen in rows:
        gid = gen.generation_id
        why = BAD_ID if not valid_id(gid) else BUSY if gid in busy else why_not(gen)
        if why is None:
            targets.append(gen)
        else:
            skipped[why] += 1
    hidden = 0
    if from_marks and targets:
        shown = {g.generation_id for g in model.view.visible}
        hidden = sum(g.generation_id not in shown for g in targets)
    subject = "" if from_marks or selected is None else label(selected)
    return Plan(kind, tuple(targets), tuple(skipped.items()), from_marks, hidden, subject)


def label(gen: Generation) -> str:
    """`model · short id`: a row as a toast names it."""
    return f"{model_name(gen)} · {short_id(gen.generation_id)}"


def plan_cancel(
    model: DashboardModel, selected: Generation | None, order: Sequence[str] = ()
) -> Plan:
    """Cancel the rows still in flight: `selected`, or with None the marked rows."""

    def why_not(gen: Generation) -> str | None:
        finished = model.is_finished(gen.generation_id) or gen.is_terminal
        return FINISHED if finished else None

    return _plan(Kind.CANCEL, model, selected, why_not, order)


def plan_resubmit(
    model: DashboardModel, selected: Generation | None, order: Sequence[str] = ()
) -> Plan:
    """Resubmit the rows that failed or were cancelled: `selected`, or with None the
    marked rows; once per session each (a second `R` on the same row would enqueue it
    twice)."""

    def why_not(gen: Generation) -> str | None:
        if not can_resubmit(gen):
            return NOT_RESUBMITTABLE
        if gen.generation_id in model.resubmitted_as:
            return ALREADY_RESUBMITTED
        return None

    return _plan(Kind.RESUBMIT, model, selected, why_not, order)


@dataclass
class Tally:
    """The results of one action, as they arrive."""

    kind: Kind
    #: Rows left out before the requests (the plan's `skipped`).
    skipped: dict[str, int] = field(default_factory=dict)
    #: Cancelled, or resubmitted.
    done: int = 0
    #: Cancel: the hub answered 404 (it had finished meanwhile).
    already: int = 0
    #: The error headline of each request that failed.
    errors: list[str] = field(default_factory=list)
    #: Resubmit: the new generations' ids.
    new_ids: list[str] = field(default_factory=list)
    #: Resubmit: the status filter that hides the new rows while they run ("" none).
    hidden_by: str = ""
    #: It acted on marked rows (a row whose request failed stays marked).
    from_marks: bool = True

    def summary(self) -> Toast:
        """One toast: "7 cancelled, 2 already finished, 1 failed: <error>"."""
        parts: list[str] = []
        skipped = dict(self.skipped)
        if self.kind is Kind.CANCEL:
            parts.append(f"{self.done} cancelled")
            already = self.already + skipped.pop(FINISHED, 0)
            if already:
                parts.append(f"{already} already finished")
        else:
            parts.append(f"{self.done} resubmitted")
        text = ", ".join(parts)
        for why, n in skipped.items():
            text += f", {n} skipped ({why})"
        if self.errors:
            counts = Counter(self.errors)
            headline, _ = counts.most_common(1)[0]
            others = " (and other errors)" if len(counts) > 1 else ""
            text += f", {len(self.errors)} failed: {headline}{others}"
            key = "C" if self.kind is Kind.CANCEL else "R"
            text += f" (still marked: {key} tries again)" if self.from_marks else ""
        if self.kind is Kind.RESUBMIT and self.new_ids:
            shown = ", ".join(short_id(gid) for gid in self.new_ids[:3])
            more = ", …" if len(self.new_ids) > 3 else ""
            text += f"; watching {shown}{more} (★)"
            if self.hidden_by:
                text += f", not shown under status={self.hidden_by} while they run (F clears)"
        if self.errors:
            severity = "error"
        elif not self.done:
            severity = "warning"
        else:
            severity = "information"
        title = "Cancel results" if self.kind is Kind.CANCEL else "Resubmit results"
        return Toast(text, title, severity, SUMMARY_TIMEOUT)


T = TypeVar("T")
R = TypeVar("R")


async def run_each(
    items: Iterable[T],
    request: Callable[[T], Awaitable[R]],
    landed: Callable[[T, R | QueueError], None],
    limit: int = CONCURRENCY,
) -> None:
    """`request` for each item, `limit` at a time; `landed` with each result (or the
    error) as it arrives. Any other exception is a bug below: logged and told as a
    failure of that item, never the end of the others."""
    gate = asyncio.Semaphore(max(1, limit))

    async def one(item: T) -> None:
        async with gate:
            try:
                result: R | QueueError = await request(item)
            except QueueError as error:
                result = error
            except Exception as exc:
                log.exception("bulk action request failed")
                result = QueueError(f"internal error ({type(exc).__name__})")
        landed(item, result)

    await asyncio.gather(*(one(item) for item in items))


def _headline(error: QueueError) -> str:
    return error_headline(error.message, max_len=SUMMARY_ERROR_MAX) or type(error).__name__


async def run_plan(
    model: DashboardModel, plan: Plan, on_result: Callable[[str], None] | None = None
) -> Tally:
    """Send the plan's requests; each result lands in the model (a cancelled row is
    recorded cancelled, a resubmitted one linked to its new ids, which are watched) and
    `on_result(generation_id)` follows, so the app shows that row at once."""
    tally = Tally(plan.kind, dict(plan.skipped), from_marks=plan.from_marks)
    ids = [g.generation_id for g in plan.targets]
    model.acting_on.update(ids)

    def landed(gen: Generation, result: Any) -> None:
        gid = gen.generation_id
        model.acting_on.discard(gid)
        if isinstance(result, QueueError):
            tally.errors.append(_headline(result))
        elif plan.kind is Kind.CANCEL:
            outcome, events = result
            if outcome is CancelOutcome.CANCELLED:
                tally.done += 1
                model.queue_events(events)
            else:
                tally.already += 1
            model.clear_marks([gid])
        else:
            resubmitted: Resubmitted = result
            tally.done += 1
            tally.new_ids.extend(resubmitted.new_ids)
            model.note_resubmitted(gid, resubmitted.new_ids)
            model.clear_marks([gid])
        if on_result is not None:
            on_result(gid)

    if plan.kind is Kind.CANCEL:
        watcher = model.watcher

        async def request(gen: Generation) -> Any:
            return await watcher.cancel(gen.generation_id)
    else:
        resubmitter = model.resubmitter

        async def request(gen: Generation) -> Any:
            return await resubmitter.resubmit(gen)

    try:
        await run_each(plan.targets, request, landed)
    finally:
        model.acting_on.difference_update(ids)
    status = model.filters.status
    if plan.kind is Kind.RESUBMIT and status and status not in ACTIVE_STATUSES:
        tally.hidden_by = clean(status, max_len=20)
    return tally
