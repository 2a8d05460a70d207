"""The filter bar: one compact row of Selects and Inputs above the table.

Server-side filters (model, media type, status, namespace, repo, folder) go to the hub
through `Poller.set_filters`; the free-text search is applied client-side at once.
Selects apply on change; the namespace/repo/folder Inputs on Enter or after a short
pause in typing; the search Input on every keystroke.

At narrow widths the target Inputs (namespace, repo, folder) live on a second row that
`f` shows and hides, so the table keeps the height at 80x24.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Select

from queue_tui.api.models import API_MEDIA_TYPES, API_STATUSES
from queue_tui.core.filters import QueueFilters
from queue_tui.core.sanitize import clean
from queue_tui.tui.messages import FiltersChanged
from queue_tui.tui.presentation import status_label

#: The "no filter" value of every Select (QueueFilters treats "" as unset).
ALL = ""
#: Seconds of quiet typing before a server-side Input filter is sent.
DEBOUNCE = 0.6
SERVER_INPUTS = ("namespace", "repo", "folder")
MODEL_LABEL_MAX = 30


def _option(label: str, value: str) -> tuple[Text, str]:
    # Option labels are Text, never str: a str label would be parsed as markup.
    return Text(label, no_wrap=True, overflow="ellipsis"), value


class FilterBar(Widget):
    """Select/Input widgets for every filter; posts `FiltersChanged`."""

    DEFAULT_CSS = """
    FilterBar {
        height: auto;
        layout: vertical;
    }
    FilterBar > Horizontal {
        height: 1;
    }
    """

    BINDINGS: ClassVar = []

    def __init__(
        self,
        filters: QueueFilters | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._initial = filters or QueueFilters()
        self._models: set[str] = set()
        if self._initial.model:
            self._models.add(self._initial.model)
        self._posted = self._initial
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        f = self._initial
        with Horizontal(id="filters-main"):
            yield Input(
                value=f.search or "",
                placeholder="/ search",
                id="search",
                compact=True,
            )
            yield Select(
                self._model_options(),
                value=f.model or ALL,
                allow_blank=False,
                id="model",
                compact=True,
            )
            yield Select(
                [_option("all media", ALL)] + [_option(m, m) for m in API_MEDIA_TYPES],
                value=f.media_type or ALL,
                allow_blank=False,
                id="media_type",
                compact=True,
            )
            yield Select(
                [_option("active", ALL)] + [_option(status_label(s), s) for s in API_STATUSES],
                value=f.status or ALL,
                allow_blank=False,
                id="status",
                compact=True,
            )
        with Horizontal(id="filters-target"):
            for name in SERVER_INPUTS:
                yield Input(
                    value=getattr(f, name) or "",
                    placeholder=name,
                    id=name,
                    compact=True,
                    classes="target-input",
                )

    # -- public API ------------------------------------------------------------------

    @property
    def filters(self) -> QueueFilters:
        """What the widgets say now."""

        def select(name: str) -> str | None:
            value = self.query_one(f"#{name}", Select).value
            return value if isinstance(value, str) and value else None

        def text(name: str) -> str | None:
            return self.query_one(f"#{name}", Input).value or None

        return QueueFilters(
            namespace=text("namespace"),
            model=select("model"),
            media_type=select("media_type"),
            status=select("status"),
            repo=text("repo"),
            folder=text("folder"),
            search=text("search"),
        )

    def learn_models(self, names: Iterable[str]) -> None:
        """Offer models seen in rows as Select options (only grows)."""
        new = {n for n in names if n and n not in self._models}
        if not new:
            return
        self._models |= new
        select = self.query_one("#model", Select)
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options(self._model_options())
            select.value = current if isinstance(current, str) else ALL

    def set_filters(self, filters: QueueFilters) -> None:
        """Put `filters` into the widgets (e.g. after 'clear all' or a palette command)."""
        if filters.model:
            self.learn_models([filters.model])
        with self.prevent(Select.Changed, Input.Changed):
            self.query_one("#model", Select).value = filters.model or ALL
            self.query_one("#media_type", Select).value = filters.media_type or ALL
            self.query_one("#status", Select).value = filters.status or ALL
            for name in (*SERVER_INPUTS, "search"):
                self.query_one(f"#{name}", Input).value = getattr(filters, name) or ""
        self._post_if_changed()

    def focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    # -- events --------------------------------------------------------------------------

    def _model_options(self) -> list[tuple[Text, str]]:
        return [_option("all models", ALL)] + [
            _option(clean(name, max_len=MODEL_LABEL_MAX), name)
            for name in sorted(self._models, key=str.casefold)
        ]

    def on_mount(self) -> None:
        self._mark_set()

    def _mark_set(self) -> None:
        """Highlight the widgets whose filter is set, so active filters stand out."""
        for select in self.query(Select):
            select.set_class(bool(select.value) and select.value != Select.NULL, "-set")
        for field in self.query(Input):
            field.set_class(bool(field.value.strip()), "-set")

    def _post_if_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        self._mark_set()
        current = self.filters
        if current != self._posted:
            self._posted = current
            self.post_message(FiltersChanged(current))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._post_if_changed()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._post_if_changed()

    @on(Input.Changed, ".target-input")
    def _target_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._mark_set()
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(DEBOUNCE, self._post_if_changed)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._post_if_changed()
        # Enter in a filter means "done": back to the table.
        self.app.action_focus_table()  # type: ignore[attr-defined]
