"""Filters: the server-side ones the API takes, and the client-side free-text search.

`FILTERS` declares each filter once; the CLI options, the config file's `[filters]`
table, the request parameters, the dashboard's filter bar, the client-side match and the
status bar's short description all read it. A new filter is one entry here and one
field in `QueueFilters`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

from queue_tui.api.models import API_MEDIA_TYPES, API_STATUSES, Generation


@dataclass(frozen=True, slots=True)
class FilterSpec:
    #: The `QueueFilters` field, the config key under `[filters]`, the widget's id.
    name: str
    #: The query parameter of `GET /api/ai/queue` (None: applied client-side only).
    param: str | None
    #: The row field a server-side filter matches (client-side check of lingering rows).
    row_field: str | None
    #: In the filter bar: a free-text Input, a Select, or the search Input; and on
    #: which row ("target" filters go to a second row on narrow terminals).
    widget: Literal["search", "select", "input"]
    row: Literal["main", "target"]
    #: The values a Select (and the CLI and config) take; None: free text (the model
    #: Select offers the models seen in rows).
    choices: tuple[str, ...] | None
    #: What the Select shows while the filter is unset.
    blank: str
    #: Its word in the status bar's description (`media=video`).
    short: str
    help: str

    @property
    def flag(self) -> str | None:
        return f"--{self.name.replace('_', '-')}" if self.param else None


FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec(
        name="search", param=None, row_field=None, widget="search", row="main",
        choices=None, blank="/ search", short="/",
        help="Free text, client-side: id, model, target, prompt, error.",
    ),
    FilterSpec(
        name="model", param="model", row_field="model_name", widget="select", row="main",
        choices=None, blank="all models", short="model",
        help="Only this model (server-side).",
    ),
    FilterSpec(
        name="media_type", param="media_type", row_field="media_type", widget="select",
        row="main", choices=API_MEDIA_TYPES, blank="all media", short="media",
        help="Only images or videos (server-side).",
    ),
    FilterSpec(
        name="status", param="status", row_field="status", widget="select", row="main",
        choices=API_STATUSES, blank="active", short="status",
        help="Only this status; terminal ones included (server-side). "
        "Default: queued + processing.",
    ),
    FilterSpec(
        name="namespace", param="namespace", row_field="target_namespace", widget="input",
        row="target", choices=None, blank="namespace", short="namespace",
        help="Only this target namespace (server-side).",
    ),
    FilterSpec(
        name="repo", param="repo", row_field="target_repo", widget="input", row="target",
        choices=None, blank="repo", short="repo",
        help="Only this target repo (server-side).",
    ),
    FilterSpec(
        name="folder", param="folder", row_field="target_directory", widget="input",
        row="target", choices=None, blank="folder", short="folder",
        help="Only this target folder (server-side).",
    ),
)  # fmt: skip
BY_NAME = {spec.name: spec for spec in FILTERS}
SERVER_SPECS = tuple(spec for spec in FILTERS if spec.param)
SERVER_FILTERS = tuple(spec.name for spec in SERVER_SPECS)


@dataclass(frozen=True, slots=True)
class QueueFilters:
    namespace: str | None = None
    model: str | None = None
    media_type: str | None = None
    status: str | None = None
    repo: str | None = None
    folder: str | None = None
    #: Client-side, instant: matched against id, model, target, prompt and error.
    search: str | None = None

    def __post_init__(self) -> None:
        # "" and whitespace mean "not set", so a cleared Input clears its filter.
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and not value.strip():
                object.__setattr__(self, f.name, None)
            elif isinstance(value, str):
                object.__setattr__(self, f.name, value.strip())

    def to_params(self) -> dict[str, str]:
        """Query parameters for `GET /api/ai/queue`: only the filters that are set."""
        return {
            spec.param: v
            for spec in SERVER_SPECS
            if spec.param and (v := getattr(self, spec.name)) is not None
        }

    def server_key(self) -> tuple[str | None, ...]:
        return tuple(getattr(self, name) for name in SERVER_FILTERS)

    def with_(self, **changes: str | None) -> QueueFilters:
        return replace(self, **changes)

    def active(self) -> dict[str, str]:
        """Every filter that is set, by name (for 'filters: model=x status=y')."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    def describe(self) -> str:
        """Short form for the status bar: `media=video status=failed /oom`."""
        parts = []
        for name, value in self.active().items():
            short = BY_NAME[name].short
            parts.append(f"{short}{value}" if short == "/" else f"{short}={value}")
        return " ".join(parts)

    def matches(self, gen: Generation) -> bool:
        """Client-side check: the search text, plus the server-side filters, so rows
        that linger after finishing (or a hub that ignores a filter) still obey them."""
        for spec in SERVER_SPECS:
            value = getattr(self, spec.name)
            if value and spec.row_field and getattr(gen, spec.row_field) != value:
                return False
        return self.matches_search(gen)

    def matches_search(self, gen: Generation) -> bool:
        if not self.search:
            return True
        needle = self.search.casefold()
        if "\0" in needle:  # it could span two fields in `search_text`
            return any(needle in text.casefold() for text in gen.search_fields())
        return needle in gen.search_text


if {f.name for f in fields(QueueFilters)} != set(BY_NAME):  # pragma: no cover
    raise RuntimeError("each filter is declared in FILTERS and as a QueueFilters field")
