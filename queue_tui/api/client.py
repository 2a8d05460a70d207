"""The hub client: one long-lived httpx.AsyncClient, typed errors, tolerant parsing.

Every transport goes through the same code path: the real network, the embedded demo
hub (`httpx.ASGITransport`), and recordings (see `queue_tui.api.recording`). That keeps
what the tests and `--demo` exercise identical to what talks to the real hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import enum
import hashlib
import json
import logging
import time
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from httpx_sse import SSEError, aconnect_sse

from queue_tui import __version__
from queue_tui.api.errors import (
    AuthError,
    BadPayloadError,
    InsecureTokenError,
    NotFoundError,
    QueueError,
    RateLimitedError,
    RedirectError,
    RequestRejectedError,
    RequestTimeoutError,
    ServerError,
    StreamUnavailableError,
    UnreachableError,
)
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import (
    TERMINAL_STATUSES,
    Generation,
    HistoryPage,
    JsonNumber,
    ModelPrices,
    PageShapeError,
    QueuePage,
    RowIndex,
    keep_unchanged,
    parse_generation,
    parse_history_page,
    parse_model_prices,
    parse_queue_page,
    parse_queue_text,
)
from queue_tui.logsetup import add_secret, redact
from queue_tui.sanitize import clean

log = logging.getLogger(__name__)

QUEUE_PATH = "/api/ai/queue"
EVENTS_PATH = "/api/events"
GENERATIONS_PATH = "/api/ai/generations"
MODELS_PATH = "/api/ai/models"
#: The header a `queue-tui serve` relay puts on every answer (its version).
RELAY_HEADER = "X-Queue-Tui-Relay"
#: And its own link to the hub: `RELAY_UPSTREAM_OK`, or a short phrase of what is wrong
#: ("stale 42s (unreachable)").
RELAY_UPSTREAM_HEADER = "X-Queue-Tui-Relay-Upstream"
RELAY_UPSTREAM_OK = "ok"
#: And whether it forwards cancels and resubmits ("on") or refuses them ("off").
RELAY_ACTIONS_HEADER = "X-Queue-Tui-Relay-Actions"
#: The history's `page_size` bounds (the spec's; a hub may cap it lower).
HISTORY_PAGE_SIZE_MAX = 1000
#: Status codes meaning "this hub does not offer that".
UNSUPPORTED_STATUSES = frozenset({404, 405, 501})
#: Bodies above this size are parsed in a thread so the UI loop only applies the diff.
THREAD_PARSE_BYTES = 256 * 1024
#: Queries whose last page is kept (views polled: the current one, the ones just left).
LAST_PAGES = 3


class HistoryUnavailableError(QueueError):
    """The hub has no history: `GET /api/ai/generations` answered 404, 405 or 501."""

    kind = "no_history"
    exit_code = 10

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class CancelOutcome(enum.Enum):
    CANCELLED = "cancelled"
    ALREADY_FINISHED = "already_finished"


@dataclass(frozen=True, slots=True)
class FetchResult:
    page: QueuePage
    #: Wall-clock seconds from request start to parsed page.
    latency: float
    fetched_at: float
    filters: QueueFilters


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _excerpt(body: bytes, secret: str | None = None) -> str:
    # Redacted before it is clipped, so not even a prefix of the token survives a hub
    # that echoes request headers into its error pages.
    text = redact(body[:2000].decode("utf-8", "replace"), [secret])
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict):
            text = str(err.get("title") or err.get("type") or "")
        elif isinstance(err, str):
            text = err
        elif isinstance(data.get("message"), str):
            text = data["message"]
        text = redact(text, [secret])
    elif "<html" in text.lower() or "<!doctype" in text.lower():
        return "HTML error page"
    return clean(text, max_len=120)


class ClientSettings(Protocol):
    """What the client needs of the connection settings (`queue_tui.config.Settings`
    has it; the api layer does not import config)."""

    host: str
    token: str | None
    token_source: str
    timeout: float
    connect_timeout: float
    max_body_bytes: int

    @property
    def display_host(self) -> str: ...

    @property
    def token_is_insecure(self) -> bool: ...

    @property
    def token_help(self) -> str: ...


class QueueClient:
    """Async client for the hub's queue endpoints."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        #: The last page parsed per query: query -> (body digest, page), the few most
        #: recent queries (the dashboard's view, the status lists it asks for).
        self._last_pages: dict[tuple[tuple[str, str], ...], tuple[bytes, QueuePage, RowIndex]] = {}
        #: Pages parsed from a body (not reused from the last one), and rows of those
        #: that are the previous page's objects: for tests.
        self.pages_parsed = 0
        self.rows_kept = 0
        #: The relay's version when the last answer came from a `queue-tui serve` relay
        #: (its `X-Queue-Tui-Relay` header), None when from a hub (or before any answer).
        self.via_relay: str | None = None
        #: That relay's word on its own link to the hub when it is not ok (cleaned);
        #: None while it is, or when the answer came from a hub.
        self.relay_upstream: str | None = None
        #: True when the last answer came from a relay that refuses cancels and resubmits.
        self.relay_read_only = False
        headers = {"User-Agent": f"queue-tui/{__version__}", "Accept": "application/json"}
        add_secret(settings.token)
        if settings.token and not settings.token_is_insecure:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._http = httpx.AsyncClient(
            base_url=settings.host,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            verify=_needs_tls(settings.host, transport),
        )

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> QueueClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- requests -----------------------------------------------------------------

    def _check_insecure(self) -> None:
        if self.settings.token_is_insecure:
            raise InsecureTokenError(
                f"refusing to send the API token over plain http to {self.settings.display_host};"
                " use https, or pass --allow-insecure"
            )

    async def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json_body: Any = None
    ) -> tuple[int, httpx.Headers, bytes]:
        self._check_insecure()
        cap = self.settings.max_body_bytes
        started = time.perf_counter()
        # httpx times each connect/read on its own (a hub trickling bytes never trips
        # them) and not at all over an in-process ASGI transport: one overall deadline.
        deadline = self.settings.timeout + self.settings.connect_timeout
        try:
            async with (
                asyncio.timeout(deadline),
                self._http.stream(method, path, params=params, json=json_body) as resp,
            ):
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cap:
                    raise BadPayloadError(
                        f"response of {_size(int(declared))} is over the {_size(cap)} cap; refused"
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise BadPayloadError(f"response is over the {_size(cap)} cap; refused")
                    chunks.append(chunk)
                body = b"".join(chunks)
                status, headers = resp.status_code, resp.headers
                self._note_relay(headers)
        except TimeoutError:
            raise RequestTimeoutError(
                f"no complete answer from {self.settings.display_host} within {deadline:.0f}s"
            ) from None
        except httpx.TimeoutException as exc:
            kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
            raise RequestTimeoutError(
                f"{kind} timeout talking to {self.settings.display_host}"
            ) from None
        except httpx.ConnectError as exc:
            raise UnreachableError(
                f"cannot reach {self.settings.display_host}: {_connect_reason(exc)}"
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise UnreachableError(
                f"connection to {self.settings.display_host} lost ({type(exc).__name__})"
            ) from None
        except httpx.TransportError as exc:
            raise UnreachableError(
                f"cannot talk to {self.settings.display_host} ({type(exc).__name__})"
            ) from None
        except httpx.DecodingError:
            raise BadPayloadError(
                "the hub's response could not be decoded (bad content encoding)"
            ) from None
        except httpx.HTTPError as exc:
            raise UnreachableError(
                f"request to {self.settings.display_host} failed ({type(exc).__name__})"
            ) from None
        log.debug(
            "%s %s params=%s -> %s (%d bytes, %.0f ms)",
            method,
            path,
            params or {},
            status,
            len(body),
            (time.perf_counter() - started) * 1000,
        )
        return status, headers, body

    def _note_relay(self, headers: httpx.Headers) -> None:
        value = headers.get(RELAY_HEADER)
        if value is None:
            self.via_relay = self.relay_upstream = None
            self.relay_read_only = False
            return
        self.via_relay = clean(value, max_len=40) or "?"
        self.relay_read_only = headers.get(RELAY_ACTIONS_HEADER, "").strip().lower() == "off"
        upstream = clean(headers.get(RELAY_UPSTREAM_HEADER, RELAY_UPSTREAM_OK), max_len=60)
        self.relay_upstream = None if upstream in (RELAY_UPSTREAM_OK, "") else upstream

    def _raise_for_status(self, status: int, headers: httpx.Headers, body: bytes) -> None:
        if status < 300:
            return
        if status < 400:
            raise self._redirect(status, headers.get("location"))
        detail = _excerpt(body, self.settings.token)
        suffix = f": {detail}" if detail else ""
        if status in (401, 403):
            what = "unauthorised (401)" if status == 401 else "forbidden (403)"
            if self.settings.token:
                hint = f"the token from {self.settings.token_source} was refused"
            else:
                hint = f"no API token was sent; {self.settings.token_help}"
            raise AuthError(
                f"{what}: {hint}", status_code=status, token_source=self.settings.token_source
            )
        if status == 429:
            retry_after = parse_retry_after(headers.get("retry-after"))
            when = f"; retry after {retry_after:.0f}s" if retry_after is not None else ""
            raise RateLimitedError(f"rate limited by the hub (429){when}", retry_after=retry_after)
        if status == 404:
            raise NotFoundError(
                f"{self.settings.display_host} has no queue endpoint (404): wrong host or path?"
            )
        if status >= 500:
            raise ServerError(f"hub error {status}{suffix}", status_code=status)
        raise RequestRejectedError(f"request rejected ({status}){suffix}", status_code=status)

    def _redirect(self, status: int, location: str | None) -> RedirectError:
        """Where a 3xx points, as one line: the URL (never its query or credentials) and
        what to pass as --host to go there."""
        if not location:
            return RedirectError(
                f"the hub answered {status} (a redirect) without a Location; check --host",
                status_code=status,
                location=None,
            )
        try:
            target = httpx.URL(self.settings.host).join(redact(location.strip()))
        except (httpx.InvalidURL, ValueError):
            return RedirectError(
                f"the hub answered {status} with an unusable Location; check --host",
                status_code=status,
                location=None,
            )
        target = target.copy_with(query=None, fragment=None, username=None, password=None)
        shown = str(target)
        # The API's paths all start with /api/ai/queue: what stands before it is the host.
        cut = target.path.find(QUEUE_PATH)
        prefix = target.path[:cut] if cut >= 0 else target.path
        base = str(target.copy_with(path=prefix or "/")).rstrip("/")
        shown, base = clean(shown, max_len=200), clean(base, max_len=200)
        return RedirectError(
            f"the hub redirected ({status}) to {shown}; use {base} as --host",
            status_code=status,
            location=shown,
        )

    @staticmethod
    def _decode(body: bytes) -> Any:
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadPayloadError("the hub answered with something that is not JSON") from None

    @classmethod
    def _parse_page(cls, body: bytes) -> QueuePage:
        data = cls._decode(body)
        try:
            return parse_queue_page(data)
        except PageShapeError as exc:
            raise BadPayloadError(f"unexpected response shape: {exc}") from None

    async def fetch(self, filters: QueueFilters | None = None) -> FetchResult:
        """One poll of `GET /api/ai/queue` with only the filters that are set.

        When the body is byte-identical to the last one parsed for the same query (an
        idle queue, polled every 2 s), the previous `QueuePage` is returned as it is;
        otherwise each row equal to the last page's is that page's object
        (`keep_unchanged`). `Generation` objects are immutable, and handing the same
        objects back lets the keyed diffs downstream (tracker, table) take their
        identity fast paths. Big bodies are parsed, and compared, in a thread.
        The `FetchResult` (latency, time, filters) is new every time."""
        filters = filters or QueueFilters()
        started = time.perf_counter()
        params = filters.to_params()
        status, headers, body = await self._request("GET", QUEUE_PATH, params=params)
        self._raise_for_status(status, headers, body)
        query = tuple(sorted(params.items()))
        # Lists of finished rows (asked for to resolve rows and to seed history) are
        # parsed once and not kept: only the pages of views that are polled are.
        remember = filters.status not in TERMINAL_STATUSES
        if len(body) > THREAD_PARSE_BYTES:
            page = await asyncio.to_thread(self._page_for, query, body, remember)
        else:
            page = self._page_for(query, body, remember)
        if page.dropped:
            log.info("dropped %d malformed row(s): %s", len(page.dropped), page.dropped[0].reason)
        return FetchResult(
            page=page,
            latency=time.perf_counter() - started,
            fetched_at=time.time(),
            filters=filters,
        )

    def _page_for(
        self, query: tuple[tuple[str, str], ...], body: bytes, remember: bool = True
    ) -> QueuePage:
        """The last page again if `body` is the same bytes for the same query, else a
        page parsed from it (which becomes the last page when `remember`)."""
        if not remember:
            self.pages_parsed += 1
            return self._parse_page(body)
        digest = hashlib.blake2b(body, digest_size=20).digest()
        pages = self._last_pages
        last = pages.get(query)
        if last is not None and last[0] == digest:
            return last[1]
        # Only the rows whose text changed are validated (`parse_queue_text`); any other
        # body is decoded whole, as before.
        parsed = None
        with contextlib.suppress(UnicodeDecodeError):
            parsed = parse_queue_text(body.decode(), last[2] if last is not None else {})
        if parsed is not None:
            page, index = parsed
            if last is not None:
                before = {id(g) for g in last[1].generations}
                self.rows_kept += sum(1 for g in page.generations if id(g) in before)
        else:
            page, index = self._parse_page(body), {}
            if last is not None:
                self.rows_kept += keep_unchanged(page, last[1])
        self.pages_parsed += 1
        pages.pop(query, None)
        pages[query] = (digest, page, index)
        while len(pages) > LAST_PAGES:
            del pages[next(iter(pages))]
        return page

    @contextlib.asynccontextmanager
    async def event_stream(
        self, read_timeout: float, last_event_id: str | None = None
    ) -> AsyncIterator[AsyncIterator[Any]]:
        """`GET /api/events` open: yields its server-sent events (httpx-sse's
        `ServerSentEvent`), with the same error mapping as every other request. A hub
        without the stream raises `StreamUnavailableError`; one gone silent for
        `read_timeout` (it sends a keep-alive every 15 s), `RequestTimeoutError`.
        `last_event_id` (the last `id:` seen before a reconnect) is sent as
        `Last-Event-ID`: a relay replays what came after it."""
        self._check_insecure()
        timeout = httpx.Timeout(self.settings.timeout, read=read_timeout)
        # An id is the stream's data: sent back only when it is a plain header value.
        usable = last_event_id and last_event_id.isprintable() and last_event_id.isascii()
        headers = {"Last-Event-ID": last_event_id} if usable and last_event_id else {}
        try:
            async with aconnect_sse(
                self._http, "GET", EVENTS_PATH, timeout=timeout, headers=headers
            ) as source:
                response = source.response
                self._note_relay(response.headers)
                status = response.status_code
                if status in UNSUPPORTED_STATUSES:
                    raise StreamUnavailableError(f"no event stream ({status})")
                if status >= 300:
                    body = await response.aread()
                    self._raise_for_status(status, response.headers, body[:2000])
                content_type = response.headers.get("content-type", "").partition(";")[0]
                if "text/event-stream" not in content_type:
                    raise StreamUnavailableError(f"not an event stream ({content_type or '?'})")
                yield source.aiter_sse()
        except SSEError as exc:
            raise StreamUnavailableError(f"not an event stream ({type(exc).__name__})") from None
        except httpx.TimeoutException:
            raise RequestTimeoutError("event stream went silent") from None
        except httpx.TransportError as exc:
            raise UnreachableError(f"event stream lost ({type(exc).__name__})") from None

    async def get(self, generation_id: str) -> Generation | None:
        """The row while it is queued or running; None once it is no longer queued (404)."""
        status, headers, body = await self._request("GET", _item_path(generation_id))
        if status == 404:
            return None
        self._raise_for_status(status, headers, body)
        data = self._decode(body)
        try:
            return parse_generation(data)
        except ValueError as exc:
            raise BadPayloadError(f"unexpected generation shape: {type(exc).__name__}") from None

    async def cancel(self, generation_id: str) -> CancelOutcome:
        status, headers, body = await self._request("DELETE", _item_path(generation_id))
        if status == 404:
            return CancelOutcome.ALREADY_FINISHED
        self._raise_for_status(status, headers, body)
        return CancelOutcome.CANCELLED

    async def enqueue(self, model: str, prompt: str, **params: Any) -> list[str]:
        """Enqueue a generation; returns the new generation ids."""
        return await self.enqueue_body({"model": model, "prompt": prompt, **params})

    async def enqueue_body(self, payload: Mapping[str, Any]) -> list[str]:
        """`POST /api/ai/queue` with `payload` as it is (any key, even one that is not a
        Python name); returns the new generation ids."""
        status, headers, body = await self._request("POST", QUEUE_PATH, json_body=dict(payload))
        self._raise_for_status(status, headers, body)
        data = self._decode(body)
        rows = data.get("generations") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise BadPayloadError("unexpected enqueue response shape")
        return _new_ids(rows)

    async def retry(self, generation_id: str) -> list[str] | None:
        """`POST /api/ai/queue/{id}/retry` (newer hubs): the new generation ids, or None
        when this hub has no retry endpoint (404, 405, 501). Other refusals (409/422 for
        a row it will not retry) raise through the usual mapping."""
        path = f"{_item_path(generation_id)}/retry"
        status, headers, body = await self._request("POST", path)
        if status in UNSUPPORTED_STATUSES:
            return None
        self._raise_for_status(status, headers, body)
        data = self._decode(body)
        # The answer's shape is not pinned down ("a new generation linked by
        # retried_from_id"): a row, {"generation": row} or {"generations": [rows]}.
        if isinstance(data, dict) and isinstance(data.get("generations"), list):
            rows = data["generations"]
        elif isinstance(data, dict) and isinstance(data.get("generation"), dict):
            rows = [data["generation"]]
        elif isinstance(data, dict) and "generation_id" in data:
            rows = [data]
        else:
            raise BadPayloadError("unexpected retry response shape")
        ids = _new_ids(rows)
        if not ids:
            raise BadPayloadError("the retry answer names no new generation id")
        return ids

    async def get_generation(self, generation_id: str) -> Generation | None:
        """`GET /api/ai/generations/{id}` (the history): the row, None when the hub
        answers 404. A hub without the endpoint answers 405/501: raised, as
        `RequestRejectedError` / `ServerError` with that status code."""
        path = f"{GENERATIONS_PATH}/{quote(generation_id, safe='')}"
        status, headers, body = await self._request("GET", path)
        if status == 404:
            return None
        self._raise_for_status(status, headers, body)
        data = self._decode(body)
        row = data.get("generation") if isinstance(data, dict) else None
        if not isinstance(row, dict):
            raise BadPayloadError("unexpected generation shape: no 'generation' object")
        try:
            return parse_generation(row)
        except ValueError as exc:
            raise BadPayloadError(f"unexpected generation shape: {type(exc).__name__}") from None

    async def history_page(
        self, filters: QueueFilters | None = None, *, page: int = 1, page_size: int = 100
    ) -> HistoryPage:
        """One page of `GET /api/ai/generations` (every status unless `filters.status`),
        newest first. The hub may answer with fewer rows a page than `page_size`: follow
        the answer's `total_pages`. A hub without the endpoint raises
        `HistoryUnavailableError`; money is read exactly (`JsonNumber`, `parse_money`)."""
        if page < 1 or not 1 <= page_size <= HISTORY_PAGE_SIZE_MAX:
            raise ValueError(f"page {page}, page_size {page_size}: out of range")
        params = (filters or QueueFilters()).to_params()
        params |= {"page": str(page), "page_size": str(page_size)}
        status, headers, body = await self._request("GET", GENERATIONS_PATH, params=params)
        if status in UNSUPPORTED_STATUSES:
            where = "" if page == 1 else f" (at page {page})"
            raise HistoryUnavailableError(
                f"{self.settings.display_host} has no history: GET {GENERATIONS_PATH} "
                f"answered {status}{where}",
                status_code=status,
            )
        self._raise_for_status(status, headers, body)
        if len(body) > THREAD_PARSE_BYTES:
            return await asyncio.to_thread(self._parse_history, body)
        return self._parse_history(body)

    @staticmethod
    def _parse_history(body: bytes) -> HistoryPage:
        try:
            data = json.loads(body, parse_float=JsonNumber)
        except (ValueError, UnicodeDecodeError):
            raise BadPayloadError("the hub answered with something that is not JSON") from None
        try:
            page = parse_history_page(data)
        except PageShapeError as exc:
            raise BadPayloadError(f"unexpected history shape: {exc}") from None
        if page.dropped:
            log.info("history: dropped %d malformed row(s)", len(page.dropped))
        return page

    async def model_prices(self, model: str) -> ModelPrices | None:
        """`GET /api/ai/models/{id}`: the model's prices, exact; None where the hub has no
        such model or no such endpoint (404, 405, 501)."""
        path = f"{MODELS_PATH}/{quote(model, safe='')}"
        status, headers, body = await self._request("GET", path)
        if status in UNSUPPORTED_STATUSES:
            return None
        self._raise_for_status(status, headers, body)
        try:
            data = json.loads(body, parse_float=JsonNumber)
        except (ValueError, UnicodeDecodeError):
            raise BadPayloadError("the hub answered with something that is not JSON") from None
        try:
            return parse_model_prices(model, data)
        except PageShapeError as exc:
            raise BadPayloadError(f"unexpected model shape: {exc}") from None


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.0f} MB"
    if n >= 1_000:
        return f"{n / 1_000:.0f} kB"
    return f"{n} bytes"


def _new_ids(rows: list[Any]) -> list[str]:
    """The ids of the rows an enqueue or a retry answered with (ids of another type than
    text or a whole number are not ids)."""
    ids = []
    for r in rows:
        gid = r.get("generation_id") if isinstance(r, dict) else None
        if isinstance(gid, int) and not isinstance(gid, bool):
            gid = str(gid)
        if isinstance(gid, str) and gid.strip():
            ids.append(gid)
    return ids


def _item_path(generation_id: str) -> str:
    """`/api/ai/queue/{id}` with the id percent-encoded: an id from the hub is data, and
    `../x` or `a?b` must not change which resource is asked for."""
    return f"{QUEUE_PATH}/{quote(generation_id, safe='')}"


def _needs_tls(host: str, transport: httpx.AsyncBaseTransport | None) -> bool:
    """Whether the client's own transport needs the certificate store: loading it takes
    30-50 ms of start-up. A plain-http host, reached without a proxy, never speaks TLS
    (redirects are not followed, every path is relative), so it is not loaded then."""
    if transport is not None or not host.lower().startswith("http://"):
        return True
    return bool(urllib.request.getproxies())


def _connect_reason(exc: httpx.ConnectError) -> str:
    # httpx often says only "All connection attempts failed"; the OS error that says
    # why sits further down the cause chain.
    seen: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and len(seen) < 8:
        seen.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(e, ConnectionRefusedError) for e in seen):
        return "connection refused"
    if any(isinstance(e, ConnectionResetError) for e in seen):
        return "connection reset"
    text = " ".join(str(e) for e in seen).lower()
    if "name or service not known" in text or "nodename" in text or "getaddrinfo" in text:
        return "host name not found"
    if "name resolution" in text:
        return "host name lookup failed"
    if "refused" in text:
        return "connection refused"
    if "reset" in text:
        return "connection reset"
    if "unreachable" in text:
        return "network unreachable"
    return "connection failed"


__all__ = [
    "RELAY_HEADER",
    "RELAY_UPSTREAM_HEADER",
    "RELAY_UPSTREAM_OK",
    "CancelOutcome",
    "FetchResult",
    "HistoryUnavailableError",
    "QueueClient",
    "QueueError",
    "parse_retry_after",
]
