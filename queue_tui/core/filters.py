"""Filters: the server-side ones the API takes, and the client-side free-text search."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from queue_tui.api.models import Generation

SERVER_FILTERS = ("namespace", "model", "media_type", "status", "repo", "folder")


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
        return {name: v for name in SERVER_FILTERS if (v := getattr(self, name)) is not None}

    def server_key(self) -> tuple[str | None, ...]:
        return tuple(getattr(self, name) for name in SERVER_FILTERS)

    def with_(self, **changes: str | None) -> QueueFilters:
        return replace(self, **changes)

    def active(self) -> dict[str, str]:
        """Every filter that is set, by name (for 'filters: model=x status=y')."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) is not None}

    def describe(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.active().items())

    def matches(self, gen: Generation) -> bool:
        """Client-side check: the search text, plus the server-side filters, so rows
        that linger after finishing (or a hub that ignores a filter) still obey them."""
        if self.model and gen.model_name != self.model:
            return False
        if self.media_type and gen.media_type != self.media_type:
            return False
        if self.namespace and gen.target_namespace != self.namespace:
            return False
        if self.repo and gen.target_repo != self.repo:
            return False
        if self.folder and gen.target_directory != self.folder:
            return False
        if self.status and gen.status != self.status:
            return False
        return self.matches_search(gen)

    def matches_search(self, gen: Generation) -> bool:
        if not self.search:
            return True
        needle = self.search.casefold()
        haystack = (
            gen.generation_id,
            gen.model_name,
            gen.target,
            gen.error_message or "",
            gen.prompt or "",
            gen.status,
        )
        return any(needle in h.casefold() for h in haystack)
