"""Typed rows of `GET /api/ai/queue`, tolerant of the drift the hub has shown.

Two row shapes are accepted: the spec's (``model_name``, ``status``, timestamps,
``result_url``...) and the older one from the docs page (``model``, ``prompt``, no
``status``: a listed row is simply in progress). Unknown enum values are kept as their
raw string; extra fields are kept as request parameters for display. A field of the wrong
type costs that field, not the row: it is left unset and its raw value kept in
`invalid_fields` (shown as `?` and in the detail pane); only a row without a usable
`generation_id` is dropped, and counted.

The history (`GET /api/ai/generations`) has the same rows plus a cost and the user
(`PastGeneration`, in a `HistoryPage`); models may carry prices (`ModelPrices`). Money is
a `Decimal` read from the digits the hub sent (`parse_money`), never a float.
"""

from __future__ import annotations

import functools
import json
import json.scanner
import math
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)


class Status(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Not a hub value: what a row of the docs' older shape (no `status`) is.
    IN_PROGRESS = "in_progress"


class MediaType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class StatusInfo:
    """How a status reads and behaves, everywhere (table, detail, status bar, tracker)."""

    word: str
    #: Shown before the word, so the status reads without colour.
    glyph: str
    #: The theme colour it takes ("muted": between the text and the background).
    style: str
    #: In flight (`ACTIVE_STATUSES`) or finished (`TERMINAL_STATUSES`); "finishing" is
    #: neither: not a hub status.
    active: bool
    terminal: bool
    #: Sort order: running work first, then waiting work, then what has finished.
    rank: int
    bold: bool = False
    #: The hub's `status=` query parameter accepts it.
    queryable: bool = False


#: Every status, in the spec's order. Not hub statuses: "in_progress" (a row of the older,
#: status-less shape) and "finishing" (left the queue, outcome not known yet).
STATUSES: dict[str, StatusInfo] = {
    "queued": StatusInfo("queued", "◷", "warning", True, False, 2, queryable=True),
    "processing": StatusInfo(
        "processing", "▶", "primary", True, False, 0, bold=True, queryable=True
    ),
    "in_progress": StatusInfo("in progress", "▶", "primary", True, False, 1),
    "succeeded": StatusInfo("succeeded", "✔", "success", False, True, 6, queryable=True),
    "failed": StatusInfo("failed", "✖", "error", False, True, 4, bold=True, queryable=True),
    "cancelled": StatusInfo("cancelled", "⊘", "muted", False, True, 5, queryable=True),
    "finishing": StatusInfo("finishing", "…", "muted", False, False, 3),
}
#: Any status the hub invents (shown as `? <raw>`; treated as still in flight).
UNKNOWN_STATUS_INFO = StatusInfo("", "?", "secondary", False, False, 3)

ACTIVE_STATUSES = frozenset(s for s, info in STATUSES.items() if info.active)
TERMINAL_STATUSES = frozenset(s for s, info in STATUSES.items() if info.terminal)
# The values the `status=` query parameter accepts, in the spec's order.
API_STATUSES: tuple[str, ...] = tuple(s for s, info in STATUSES.items() if info.queryable)
API_MEDIA_TYPES: tuple[str, ...] = ("image", "video")


#: What an id the user types may look like (hub ids are uuids); one rule for the CLI and
#: the dashboard. The client percent-encodes whatever id goes into a URL path.
_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def valid_id(generation_id: str) -> bool:
    return bool(_ID_PATTERN.fullmatch(generation_id))


def _in_range(seconds: float) -> float:
    # Anything outside 1900..5138 is garbage; durations computed from it would
    # overflow the formatters.
    if not -2.2e9 <= seconds <= 1e11:
        raise ValueError("timestamp out of range")
    return seconds


def _to_timestamp(value: Any) -> float | None:
    """Unix seconds from an int, float, numeric string or ISO 8601 string."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("timestamp must be a number, not a boolean")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            raise ValueError("timestamp out of range") from None
        if not math.isfinite(seconds):
            raise ValueError("timestamp must be finite")
        # Milliseconds sneak in from some APIs; no render was enqueued after year 5000.
        if seconds > 1e11:
            seconds /= 1000.0
        return _in_range(seconds)
    if isinstance(value, str):
        text = value.strip()
        try:
            return _to_timestamp(float(text))
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"not a timestamp: {text[:40]!r}") from exc
        try:
            seconds = parsed.timestamp()
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError("timestamp out of range") from exc
        return _in_range(seconds)
    raise ValueError(f"timestamp of type {type(value).__name__}")


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__}")


class Generation(BaseModel):
    """One generation as listed by the hub, normalised to the spec's names."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    generation_id: str
    model_name: str = "unknown"
    media_type: str = "unknown"
    status: str = Status.IN_PROGRESS.value
    enqueued_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    error_message: str | None = None
    result_url: str | None = None
    target_namespace: str | None = None
    target_repo: str | None = None
    target_directory: str | None = None
    prompt: str | None = None
    # True when the hub said the status; False for the docs' older, status-less shape.
    status_reported: bool = Field(default=True, exclude=True)
    #: Fields the hub sent with a value of the wrong type: name -> the raw value as JSON
    #: text (clipped). Those fields are left unset; set only by `parse_generation`.
    invalid_fields: dict[str, str] = Field(default_factory=dict, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_both_shapes(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            raise ValueError(f"row is {type(data).__name__}, not an object")
        row = dict(data)
        if "model_name" not in row and "model" in row:
            row["model_name"] = row.pop("model")
        if row.get("status") is None:
            row.pop("status", None)
            row["status_reported"] = False
        else:
            row["status_reported"] = True
        # Ours alone: a hub cannot mark its own fields invalid (or valid).
        row.pop("invalid_fields", None)
        invalid = (info.context or {}).get("invalid_fields")
        if invalid:
            row["invalid_fields"] = invalid
        return row

    @field_validator("generation_id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise ValueError("generation_id must be a non-empty string")
        return value

    @field_validator("model_name", "media_type", "status", mode="before")
    @classmethod
    def _enumish(cls, value: Any) -> str:
        if value is None:
            return "unknown"
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {type(value).__name__}")
        return sys.intern(value)  # a few values shared by thousands of rows

    @field_validator("enqueued_at", "started_at", "completed_at", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> float | None:
        return _to_timestamp(value)

    @field_validator("error_message", "result_url", "prompt", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str | None:
        return _optional_text(value)

    @field_validator("target_namespace", "target_repo", "target_directory", mode="before")
    @classmethod
    def _target(cls, value: Any) -> str | None:
        text = _optional_text(value)
        return None if text is None else sys.intern(text)  # shared by many rows

    # -- derived values -------------------------------------------------------------

    @property
    def status_enum(self) -> Status | None:
        try:
            return Status(self.status)
        except ValueError:
            return None

    @property
    def media_enum(self) -> MediaType | None:
        try:
            return MediaType(self.media_type)
        except ValueError:
            return None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        # An unknown status is shown as it is and treated as still in flight: the hub
        # listed it in the active view, so hiding it would lose a render.
        return not self.is_terminal

    @property
    def params(self) -> dict[str, Any]:
        """Request parameters and any other fields the hub sent beyond the spec."""
        return dict(self.model_extra or {})

    def wait_seconds(self, now: float) -> float | None:
        """Queue wait: started - enqueued, or now - enqueued while still waiting."""
        if self.enqueued_at is None:
            return None
        end = self.started_at
        if end is None:
            end = self.completed_at if self.is_terminal else now
        return max(0.0, end - self.enqueued_at) if end is not None else None

    def run_seconds(self, now: float) -> float | None:
        """Run time: completed - started, or now - started while processing."""
        if self.started_at is None:
            return None
        end = self.completed_at if self.completed_at is not None else now
        if self.is_terminal and self.completed_at is None:
            return None
        return max(0.0, end - self.started_at)

    def age_seconds(self, now: float) -> float | None:
        if self.enqueued_at is None:
            return None
        return max(0.0, now - self.enqueued_at)

    @property
    def target(self) -> str:
        parts = [self.target_namespace, self.target_repo, self.target_directory]
        return "/".join(p for p in parts if p)

    def search_fields(self) -> tuple[str, ...]:
        """What the free-text search looks in."""
        return (
            self.generation_id,
            self.model_name,
            self.target,
            self.error_message or "",
            self.prompt or "",
            self.status,
        )

    @functools.cached_property
    def search_text(self) -> str:
        """`search_fields` casefolded, NUL-separated: made once per row, as every search
        key checks every row."""
        return "\0".join(self.search_fields()).casefold()

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        copy.__dict__.pop("search_text", None)  # made again from the fields as they are now
        return copy

    def to_api(self) -> dict[str, Any]:
        """The row in the spec's shape (normalised names), extras after the spec fields."""
        row: dict[str, Any] = {
            "generation_id": self.generation_id,
            "model_name": self.model_name,
            "media_type": self.media_type,
            "status": self.status,
            "enqueued_at": _int_or_none(self.enqueued_at),
            "started_at": _int_or_none(self.started_at),
            "completed_at": _int_or_none(self.completed_at),
            "error_message": self.error_message,
            "result_url": self.result_url,
            "target_namespace": self.target_namespace,
            "target_repo": self.target_repo,
            "target_directory": self.target_directory,
        }
        if self.prompt is not None:
            row["prompt"] = self.prompt
        row.update(self._api_fields())
        row.update(self.params)
        if self.invalid_fields:
            row["invalid_fields"] = dict(self.invalid_fields)
        return row

    def _api_fields(self) -> dict[str, Any]:
        """Declared fields a subclass adds to `to_api`, before the extras."""
        return {}


def _int_or_none(value: float | None) -> int | None:
    return None if value is None else int(value)


# -- money: the history's costs and the models' prices -------------------------------

#: Amounts outside these bounds are garbage, not money (and would make formatting slow).
_MONEY_MAX = Decimal(10) ** 15
_MONEY_MIN_EXPONENT = -18


class JsonNumber(float):
    """A JSON number as it was written (`text`), for `json.loads(parse_float=JsonNumber)`:
    still a float to everything else (timestamps, extras), but a money field reads the
    digits the hub sent, never a binary float's approximation of them."""

    __slots__ = ("text",)

    def __new__(cls, text: str) -> JsonNumber:
        number = super().__new__(cls, text)
        number.text = text
        return number


def parse_money(value: Any) -> Decimal | None:
    """A cost or price: a decimal string (the API's form), a whole number, or a JSON
    number read by its text (`JsonNumber`); None for null or "". Raises ValueError for
    anything else (a bare float, a boolean, NaN, an absurd magnitude)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("money must be a decimal, not a boolean")
    if isinstance(value, JsonNumber):
        text = value.text
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
    else:
        # A float has already lost the digits the hub sent.
        raise ValueError(f"money must be a decimal string, got {type(value).__name__}")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a decimal: {text[:40]!r}") from None
    if not amount.is_finite():
        raise ValueError("money must be finite")
    exponent = amount.as_tuple().exponent
    if abs(amount) >= _MONEY_MAX or (isinstance(exponent, int) and exponent < _MONEY_MIN_EXPONENT):
        raise ValueError("amount out of range")
    return amount


def money_text(amount: Decimal | None) -> str | None:
    """An amount as the API writes it: a plain decimal string (never `1E+3`)."""
    return None if amount is None else format(amount, "f")


class PastGeneration(Generation):
    """A row of the history (`GET /api/ai/generations`): a queue row plus what it cost
    and who asked for it. A cost of the wrong kind costs that field, not the row."""

    cost: Decimal | None = None
    user_id: str | None = None
    username: str | None = None
    user_image: str | None = None

    @field_validator("cost", mode="before")
    @classmethod
    def _cost(cls, value: Any) -> Decimal | None:
        return parse_money(value)

    @field_validator("user_id", "username", "user_image", mode="before")
    @classmethod
    def _user_text(cls, value: Any) -> str | None:
        return _optional_text(value)

    def _api_fields(self) -> dict[str, Any]:
        return {
            "cost": money_text(self.cost),
            "user_id": self.user_id,
            "username": self.username,
            "user_image": self.user_image,
        }


class DroppedRow(BaseModel):
    index: int
    reason: str
    generation_id: str | None = None


class QueuePage(BaseModel):
    """A parsed page: the usable rows, plus what was dropped and why.

    `count` is what the hub said; `len(generations)` is what we kept."""

    count: int
    generations: list[Generation]
    dropped: list[DroppedRow] = Field(default_factory=list)

    @property
    def degraded(self) -> int:
        """Rows kept with one or more fields of the wrong type (see `invalid_fields`)."""
        return sum(1 for g in self.generations if g.invalid_fields)

    def to_api(self) -> dict[str, Any]:
        """The rows kept, in the API's shape: `count` is the number of rows printed, and
        what was dropped or degraded is said beside it, never silently."""
        return {
            "count": len(self.generations),
            "generations": [g.to_api() for g in self.generations],
            "dropped": len(self.dropped),
            "degraded": self.degraded,
        }


def same_row(a: Generation, b: Generation) -> bool:
    """`a == b` for two Generations without pydantic's `__eq__` (which also compares the
    class, private attributes and field sets): the fields, then the extras."""
    return a.__dict__ == b.__dict__ and a.__pydantic_extra__ == b.__pydantic_extra__


def keep_unchanged(page: QueuePage, previous: QueuePage) -> int:
    """Put `previous`'s object in `page` for every row equal to it (fields and extras);
    returns how many. Rows are immutable, so downstream keyed diffs (tracker, table) see
    an unchanged row as the same object (an identity check, not a comparison of every
    field), and the fresh copies die young instead of outliving the poll."""
    if not previous.generations:
        return 0
    before = {gen.generation_id: gen for gen in previous.generations}
    rows = page.generations
    kept = 0
    for i, gen in enumerate(rows):
        old = before.get(gen.generation_id)
        if old is not None and same_row(old, gen):
            rows[i] = old
            kept += 1
    return kept


class PageShapeError(ValueError):
    """The body is JSON but not a queue page at all."""


_SURROGATES = re.compile("[\ud800-\udfff]")


def _surrogate_free_keys(data: Any) -> dict[Any, Any] | None:
    """`data` with each lone UTF-16 surrogate in a key replaced by U+FFFD, or None when
    no key has one. JSON can spell a lone surrogate (``"\\ud800"``) and `json.loads`
    keeps it; pydantic accepts it in a value but rejects the extra field's key, which
    would drop the whole row. A key that already exists wins over a cleaned one."""
    if not isinstance(data, Mapping):
        return None
    fixed: dict[Any, Any] = {}
    changed = False
    for key, value in data.items():
        if isinstance(key, str) and _SURROGATES.search(key):
            changed = True
            key = _SURROGATES.sub("\ufffd", key)
            if key in data or key in fixed:
                continue
        fixed[key] = value
    return fixed if changed else None


#: Fields that may be degraded (left unset) when their value has the wrong type.
_DEGRADABLE = {
    cls: frozenset(cls.model_fields) - {"generation_id", "invalid_fields"}
    for cls in (Generation, PastGeneration)
}
_RAW_MAX = 300
_G = TypeVar("_G", bound=Generation)


def _raw_text(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _RAW_MAX else text[: _RAW_MAX - 1] + "…"


def parse_generation(data: Any, cls: type[_G] = Generation) -> _G:  # type: ignore[assignment]
    """One row (a `cls`: `Generation`, or `PastGeneration` for the history). The fast
    path validates it as it is; only when that fails are keys with lone surrogates
    cleaned, then fields of the wrong type set aside (kept raw in `invalid_fields`).
    Raises ValidationError only for a row with no usable id."""
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        error = exc
    fixed = _surrogate_free_keys(data)
    if fixed is not None:
        data = fixed
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            error = exc
    names = {str(e["loc"][0]) for e in error.errors() if e.get("loc")}
    if not isinstance(data, Mapping) or not names or not names <= _DEGRADABLE[cls]:
        raise error
    row = dict(data)
    invalid: dict[str, str] = {}
    for name in sorted(names):
        # The older shape's `model` arrives as `model_name`.
        key = name if name in row or name != "model_name" else "model"
        invalid[name] = _raw_text(row.pop(key, None))
    return cls.model_validate(row, context={"invalid_fields": invalid})


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "row"
    return f"{where}: {first.get('msg', 'invalid')}"


def parse_queue_page(data: Any) -> QueuePage:
    """Validate a decoded body. Raises PageShapeError only when the envelope is wrong."""
    if isinstance(data, list):
        # A bare list of rows: tolerate it, it is unambiguous.
        data = {"count": len(data), "generations": data}
    if not isinstance(data, Mapping):
        raise PageShapeError(f"expected a JSON object, got {type(data).__name__}")
    rows = data.get("generations")
    if not isinstance(rows, list):
        raise PageShapeError("the response has no 'generations' list")
    good: list[Generation] = []
    dropped: list[DroppedRow] = []
    for index, raw in enumerate(rows):
        try:
            good.append(parse_generation(raw))
        except ValidationError as exc:
            dropped.append(_dropped(index, raw, exc))
    return QueuePage(count=_count(data, len(rows)), generations=good, dropped=dropped)


def _count(envelope: Mapping[str, Any], rows: int) -> int:
    """The page's `count` as the hub gave it, else how many rows it listed."""
    count = envelope.get("count")
    return count if isinstance(count, int) and not isinstance(count, bool) else rows


def _dropped(index: int, raw: Any, exc: ValidationError) -> DroppedRow:
    gid = raw.get("generation_id") if isinstance(raw, Mapping) else None
    return DroppedRow(
        index=index, reason=_reason(exc), generation_id=gid if isinstance(gid, str) else None
    )


#: Each row of a page by the hash of its JSON text (`parse_queue_text`).
RowIndex = dict[int, Generation]


def parse_queue_text(text: str, previous: RowIndex) -> tuple[QueuePage, RowIndex] | None:
    """`parse_queue_page(json.loads(text))`, validating only the rows whose JSON text is
    not in `previous` (the last page's rows by the hash of their text: the same text with
    the same id is the same row, given back as the same object). Returns the page and its
    index, or None when `text` is not a plain JSON object with a `generations` array
    (the caller then decodes it whole, which also says what is wrong).

    Rows are decoded and validated one at a time, so the decoded rows never all live at
    once (at 10,000 rows they would be ~20 MB more at the peak); and validating only the
    changed ones (20 of 10,000 a poll) takes 40 ms where validating all took 110 ms
    (benchmarks/big_queue.py)."""
    split = _SplitPage(text)
    good: list[Generation] = []
    dropped: list[DroppedRow] = []
    index: RowIndex = {}
    position = 0
    for item in split.rows():
        if item is _RESTART:  # a later `generations` wins, as in json.loads
            good, dropped, index, position = [], [], {}, 0
            continue
        raw, key = item
        old = previous.get(key)
        if (
            old is not None
            and isinstance(raw, dict)
            and raw.get("generation_id") == old.generation_id
        ):
            gen: Generation = old
        else:
            try:
                gen = parse_generation(raw)
            except ValidationError as exc:
                dropped.append(_dropped(position, raw, exc))
                position += 1
                continue
        position += 1
        good.append(gen)
        index[key] = gen
    if not split.ok:
        return None
    page = QueuePage(count=_count(split.envelope, position), generations=good, dropped=dropped)
    return page, index


_RESTART = object()
_WS = re.compile(r"[ \t\n\r]*")
#: The C scanner `json.loads` uses, one value at a time.
_SCANNER = json.scanner.make_scanner(json.JSONDecoder())


def _scan(text: str, i: int) -> tuple[Any, int]:
    """One JSON value at `i`: (value, end). ValueError if there is none (the scanner's
    StopIteration would end a generator instead)."""
    try:
        return _SCANNER(text, i)  # type: ignore[no-any-return]
    except StopIteration:
        raise ValueError(f"no JSON value at {i}") from None


class _SplitPage:
    """A JSON object read member by member: `rows()` yields each value of its
    `generations` array with the hash of its text (`_RESTART` before a second such
    array), and leaves the other members in `envelope`; `ok` once the whole text was
    one object with a `generations` array (else the caller decodes it whole)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.envelope: dict[str, Any] = {}
        self.ok = False

    def rows(self) -> Iterator[Any]:
        try:
            yield from self._members()
        except ValueError:
            self.ok = False

    def _members(self) -> Iterator[Any]:
        text, ws, scan = self.text, _WS.match, _scan
        seen_rows = False
        i = ws(text, 0).end()
        if text[i : i + 1] != "{":
            return
        i = ws(text, i + 1).end()
        more = text[i : i + 1] != "}"
        while more:
            if text[i : i + 1] != '"':
                return
            key, i = scan(text, i)
            i = ws(text, i).end()
            if text[i : i + 1] != ":":
                return
            i = ws(text, i + 1).end()
            if key == "generations" and text[i : i + 1] == "[":
                if seen_rows:
                    yield _RESTART
                seen_rows = True
                self.envelope.pop(key, None)
                i = ws(text, i + 1).end()
                values = text[i : i + 1] != "]"
                while values:
                    start = i
                    value, i = scan(text, i)
                    yield value, hash(text[start:i])
                    del value
                    i = ws(text, i).end()
                    if text[i : i + 1] not in (",", "]"):
                        return
                    values = text[i] == ","
                    if values:
                        i = ws(text, i + 1).end()
                i += 1  # past "]"
            else:
                self.envelope[key], i = scan(text, i)
                if key == "generations":
                    seen_rows = False  # a later non-array `generations` wins
            i = ws(text, i).end()
            if text[i : i + 1] not in (",", "}"):
                return
            more = text[i] == ","
            if more:
                i = ws(text, i + 1).end()
        i = ws(text, i + 1).end()  # past "}"
        self.ok = i == len(text) and seen_rows


# -- the history: `GET /api/ai/generations` --------------------------------------------


class HistoryPage(QueuePage):
    """One page of the history. The envelope's numbers are what the hub said, None when
    it said nothing usable (kept raw in `invalid_fields`, as for a row): `total_cost` is
    the sum charged across the whole filter set, not the sum of this page."""

    generations: list[PastGeneration]  # type: ignore[assignment]
    page_number: int | None = None
    page_size: int | None = None
    total_entries: int | None = None
    total_pages: int | None = None
    total_cost: Decimal | None = None
    invalid_fields: dict[str, str] = Field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        document = super().to_api()
        for name in ("page_number", "page_size", "total_entries", "total_pages"):
            document[name] = getattr(self, name)
        document["total_cost"] = money_text(self.total_cost)
        return document


#: The envelope's counters and the least each may be.
_HISTORY_COUNTERS = {"page_number": 1, "page_size": 1, "total_entries": 0, "total_pages": 0}


def parse_history_page(data: Any) -> HistoryPage:
    """Validate a decoded history body (see `QueueClient.history_page`). Raises
    PageShapeError only when there is no `generations` list; a bad counter or
    `total_cost` costs that field."""
    if not isinstance(data, Mapping):
        raise PageShapeError(f"expected a JSON object, got {type(data).__name__}")
    rows = data.get("generations")
    if not isinstance(rows, list):
        raise PageShapeError("the response has no 'generations' list")
    good: list[PastGeneration] = []
    dropped: list[DroppedRow] = []
    for index, raw in enumerate(rows):
        try:
            good.append(parse_generation(raw, PastGeneration))
        except ValidationError as exc:
            gid = raw.get("generation_id") if isinstance(raw, Mapping) else None
            dropped.append(
                DroppedRow(
                    index=index,
                    reason=_reason(exc),
                    generation_id=gid if isinstance(gid, str) else None,
                )
            )
    invalid: dict[str, str] = {}
    counters: dict[str, int | None] = {}
    for name, least in _HISTORY_COUNTERS.items():
        value = data.get(name)
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= least
        counters[name] = value if ok else None
        if value is not None and not ok:
            invalid[name] = _raw_text(value)
    try:
        total_cost = parse_money(data.get("total_cost"))
    except ValueError:
        total_cost = None
        invalid["total_cost"] = _raw_text(data.get("total_cost"))
    count = data.get("count")
    if not isinstance(count, int) or isinstance(count, bool):
        count = len(rows)
    return HistoryPage(
        count=count,
        generations=good,
        dropped=dropped,
        total_cost=total_cost,
        invalid_fields=invalid,
        **counters,
    )


# -- model prices: `GET /api/ai/models/{id}` -------------------------------------------

#: The price fields a model may carry (per image, per second of video, per token).
PRICE_FIELDS: tuple[str, ...] = (
    "cost_per_image",
    "cost_per_second",
    "cost_per_second_with_audio",
    "cost_per_second_high_res",
    "input_cost_per_token",
    "output_cost_per_token",
)


@dataclass(frozen=True, slots=True)
class ModelPrices:
    """A model's prices, exact; None where the hub sets none (or sent garbage, kept raw
    in `invalid_fields`)."""

    model: str
    cost_per_image: Decimal | None = None
    cost_per_second: Decimal | None = None
    cost_per_second_with_audio: Decimal | None = None
    cost_per_second_high_res: Decimal | None = None
    input_cost_per_token: Decimal | None = None
    output_cost_per_token: Decimal | None = None
    invalid_fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        """Whether the hub set any price at all."""
        return any(getattr(self, name) is not None for name in PRICE_FIELDS)


def parse_model_prices(model: str, data: Any) -> ModelPrices:
    """The prices in a model's answer: `{"model": {...}}` or the object itself. Raises
    PageShapeError when it is not an object."""
    if isinstance(data, Mapping) and isinstance(data.get("model"), Mapping):
        data = data["model"]
    if not isinstance(data, Mapping):
        raise PageShapeError(f"expected a JSON object, got {type(data).__name__}")
    prices: dict[str, Decimal | None] = {}
    invalid: dict[str, str] = {}
    for name in PRICE_FIELDS:
        try:
            prices[name] = parse_money(data.get(name))
        except ValueError:
            prices[name] = None
            invalid[name] = _raw_text(data.get(name))
    return ModelPrices(model, invalid_fields=invalid, **prices)
