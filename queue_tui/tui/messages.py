"""Messages from the poll worker (and widgets) to the app.

Dataclass-style: fields are the payload. `can_replace` lets a newer poll result
supersede one still waiting in the queue, so a slow UI never applies stale pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from queue_tui.api.filters import QueueFilters
from queue_tui.core.poller import PollFailed, Snapshot


@dataclass
class PollSucceeded(Message):
    """A page arrived (the poll worker has had the dashboard model observe it)."""

    snapshot: Snapshot

    def can_replace(self, message: Message) -> bool:
        # A newer page holds everything an older one did (it is the whole queue).
        return isinstance(message, PollSucceeded)


@dataclass
class PollErrored(Message):
    """A poll failed; the poller is backing off."""

    failure: PollFailed

    def can_replace(self, message: Message) -> bool:
        # A newer failure or a success says more about the hub than this failure.
        return isinstance(message, PollErrored | PollSucceeded)


@dataclass
class FiltersChanged(Message):
    """The filter bar's widgets now say `filters`."""

    filters: QueueFilters

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FiltersChanged)


@dataclass
class LifecycleNews(Message):
    """The tracker has events the UI has not shown yet (event stream, a cancel, rows
    resolved after a poll); `history`: the backfill added finished rows (stats change)."""

    history: bool = False

    def can_replace(self, message: Message) -> bool:
        # The events wait in the app's list: one message is enough to show them all.
        # (Textual drops this message for the next one: that one carries the flag on.)
        if isinstance(message, LifecycleNews):
            message.history = message.history or self.history
            return True
        return False
