"""The filter bar: one compact row of Selects and Inputs above the table.

Server-side filters (model, media type, status, namespace, repo, folder) go to the hub
through `Poller.set_filters`; the free-text search is applied client-side at once.
Selects apply on change; the namespace/repo/folder Inputs on Enter or after a short
pause in typing; the search Input on every keystroke.

At narrow widths the target Inputs (namespace, repo, folder) live on a second row that
`f` shows and hides, so the table keeps the height at 80x24. A row narrower than
`CRAMPED_WIDTH` (a 60-column terminal) is `-cramped`: its Selects narrow (app.tcss) so
each still shows its `▼` and its choice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Select

from queue_tui.api.filters import BY_NAME, FILTERS, FilterSpec, QueueFilters
from queue_tui.core.columns import status_label
from queue_tui.sanitize import clean
from queue_tui.tui.messages import FiltersChanged

#: The "no filter" value of every Select (QueueFilters treats "" as unset).
ALL = ""
#: Seconds of quiet typing before a server-side Input filter is sent.
DEBOUNCE = 0.6
MODEL_LABEL_MAX = 30
#: Models offered in the model Select, the most recently seen: a hub that names a new
#: model on every row must not grow the list (and the Select) all day.
MODEL_OPTIONS_KEPT = 100
#: Below this many cells the main row cannot hold the search (12), model (22), media
#: (13) and status (16) widgets with their gaps at full width.
CRAMPED_WIDTH = 66


def _plain_label(value: str) -> str:
    return clean(value, max_len=MODEL_LABEL_MAX)


def _option(label: str, value: str) -> tuple[Text, str]:
    # Option labels are Text, never str: a str label would be parsed as markup.
    return Text(label, no_wrap=True, overflow="ellipsis"), value


class FilterRow(Horizontal):
    """One row of filter widgets; `-cramped` while narrower than `CRAMPED_WIDTH`."""

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < CRAMPED_WIDTH, "-cramped")


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
        #: The filters for widgets not mounted yet (`populate`).
        self._pending = filters or QueueFilters()
        #: Models seen, least recently seen first.
        self._models: OrderedDict[str, None] = OrderedDict()
        if self._pending.model:
            self._models[self._pending.model] = None
        self._posted = self._pending
        self._populated = False
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        # The rows hold their place from the first frame; their widgets come just after
        # it (`populate`), so the queue's first rows do not wait for seven widgets.
        yield FilterRow(id="filters-main")
        yield FilterRow(id="filters-target")

    def populate(self) -> None:
        """Mount one widget per declared filter (queue_tui/api/filters.py), in its order,
        showing the filters as set so far. Once; the app calls it after the first frame."""
        if self._populated:
            return
        self._populated = True
        f = self._pending
        for row, container in (("main", "filters-main"), ("target", "filters-target")):
            widgets: list[Widget] = []
            for spec in FILTERS:
                if spec.row != row:
                    continue
                value = getattr(f, spec.name) or ""
                if spec.widget == "select":
                    widgets.append(
                        Select(
                            self._options(spec),
                            value=value or ALL,
                            allow_blank=False,
                            id=spec.name,
                            compact=True,
                        )
                    )
                else:
                    widgets.append(
                        Input(
                            value=value,
                            placeholder=spec.blank,
                            id=spec.name,
                            compact=True,
                            classes="target-input" if spec.widget == "input" else "",
                        )
                    )
            self.query_one(f"#{container}", FilterRow).mount_all(widgets)
        self._mark_set()

    # -- public API ------------------------------------------------------------------

    @property
    def filters(self) -> QueueFilters:
        """What the widgets say now (before `populate`: what they will say)."""
        if not self._populated:
            return self._pending
        values: dict[str, str | None] = {}
        for spec in FILTERS:
            if spec.widget == "select":
                value = self.query_one(f"#{spec.name}", Select).value
                values[spec.name] = value if isinstance(value, str) and value else None
            else:
                values[spec.name] = self.query_one(f"#{spec.name}", Input).value or None
        return QueueFilters(**values)

    def learn_models(self, names: Iterable[str]) -> None:
        """Offer models seen in rows as Select options (the `MODEL_OPTIONS_KEPT` most
        recently seen, and the one selected)."""
        models = self._models
        new = False
        for name in names:
            if not name:
                continue
            if name in models:
                models.move_to_end(name)
            else:
                models[name] = None
                new = True
        if not new:
            return
        current = self.filters.model or ALL
        while len(models) > MODEL_OPTIONS_KEPT:
            oldest = next(iter(models))
            if oldest == current:
                models.move_to_end(oldest)  # the selected model stays offered
                oldest = next(iter(models))
            del models[oldest]
        if not self._populated:
            return  # the options are made when the Select is (`populate`)
        select = self.query_one("#model", Select)
        with self.prevent(Select.Changed):
            select.set_options(self._options(BY_NAME["model"]))
            select.value = current

    def set_filters(self, filters: QueueFilters) -> None:
        """Put `filters` into the widgets (e.g. after 'clear all' or a palette command)."""
        if filters.model:
            self.learn_models([filters.model])
        if not self._populated:
            self._pending = filters
            self._post_if_changed()
            return
        with self.prevent(Select.Changed, Input.Changed):
            for spec in FILTERS:
                value = getattr(filters, spec.name)
                if spec.widget == "select":
                    self.query_one(f"#{spec.name}", Select).value = value or ALL
                else:
                    self.query_one(f"#{spec.name}", Input).value = value or ""
        self._post_if_changed()

    def focus_search(self) -> None:
        if not self._populated:
            self.populate()
            self.call_after_refresh(self.focus_search)  # once the widgets are in
            return
        self.query_one("#search", Input).focus()

    # -- events --------------------------------------------------------------------------

    def _options(self, spec: FilterSpec) -> list[tuple[Text, str]]:
        """A Select's options: its declared choices, or (the model) the values seen."""
        if spec.choices is None:
            values = sorted(self._models, key=str.casefold)
        else:
            values = list(spec.choices)
        label = status_label if spec.name == "status" else _plain_label
        return [_option(spec.blank, ALL)] + [_option(label(v), v) for v in values]

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
