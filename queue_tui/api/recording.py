"""Record hub exchanges to a JSON-lines file, and replay them through the same client.

Both are httpx transports, so `QueueClient(settings, transport=...)` runs its normal code
path (status mapping, size cap, parsing) over a recording exactly as over the network:
the dashboard, `list` and `events` replay a post-mortem the way they saw it live.

One line per exchange::

    {"t": 1764000000.0, "method": "GET", "path": "/api/ai/queue", "params": {},
     "status": 200, "headers": {"content-type": "application/json"}, "body": "{...}"}

Only three response headers are kept (content-type, retry-after, content-length), and
no request header is ever written: the token cannot end up in a recording. Transport
failures are recorded as ``"error": "<httpx exception name>"`` (``"stalled"`` when the
caller gave up while waiting) and replayed as the same failure. A body over the cap is
cut and marked ``"truncated": true``; a body the caller stopped reading half way is
marked ``"incomplete": true``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

import httpx

from queue_tui.logsetup import open_private, redact

log = logging.getLogger(__name__)

RECORDED_HEADERS = ("content-type", "retry-after", "content-length")
#: What a recorder keeps of one body; more is marked truncated (the client's own cap
#: is what refuses it, live and in replay alike).
DEFAULT_RECORD_CAP = 50 * 1024 * 1024
STALLED = "stalled"
_FILLER = b" " * 65536


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes every request to `inner` and appends the exchange to `path`."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        path: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = DEFAULT_RECORD_CAP,
    ) -> None:
        self._inner = inner
        self.path = Path(path)
        self._clock = clock
        self._cap = max_body_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Opened now so a bad path fails at start-up, not at the first poll. Recordings
        # hold prompts and error texts from the hub: private to the user (0600, even
        # when the file already existed).
        fd = open_private(self.path)
        self._file: IO[str] | None = os.fdopen(fd, "a", encoding="utf-8")
        #: Exchanges written so far.
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        entry: dict[str, Any] = {
            "t": self._clock(),
            "method": request.method,
            "path": request.url.path,
            "params": dict(request.url.params),
        }
        try:
            response = await self._inner.handle_async_request(request)
        except asyncio.CancelledError:
            self.write({**entry, "error": STALLED})
            raise
        except Exception as exc:
            self.write({**entry, "error": type(exc).__name__, "message": _message(exc)})
            raise
        entry["status"] = response.status_code
        entry["headers"] = {
            name: response.headers[name] for name in RECORDED_HEADERS if name in response.headers
        }
        tee = _TeeStream(response, entry, self)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=tee,
            extensions=response.extensions,
        )

    def write(self, entry: dict[str, Any]) -> None:
        if self._file is None:
            log.warning("recording %s already closed; exchange dropped", self.path)
            return
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        self._file.write(line + "\n")
        self._file.flush()
        self.count += 1

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._file is not None:
                self._file.close()
                self._file = None


class _TeeStream(httpx.AsyncByteStream):
    """Hands the raw body on unchanged and writes the exchange once it is read or closed."""

    def __init__(
        self, response: httpx.Response, entry: dict[str, Any], recorder: RecordingTransport
    ) -> None:
        self._response = response
        self._entry = entry
        self._recorder = recorder
        self._chunks: list[bytes] = []
        self._size = 0
        self._complete = False
        self._written = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            # The raw stream, not aiter_raw(): a response built from bytes (mock and
            # ASGI transports) counts as already consumed for aiter_raw().
            async for chunk in self._response.stream:  # type: ignore[union-attr]
                if self._size <= self._recorder._cap:
                    self._chunks.append(chunk)
                self._size += len(chunk)
                yield chunk
        except Exception as exc:  # the body broke off: replay breaks it off the same way
            self._entry.update(error=type(exc).__name__, message=_message(exc))
            raise
        self._complete = True

    async def aclose(self) -> None:
        try:
            await self._response.aclose()
        finally:
            self._flush()

    def _flush(self) -> None:
        if self._written:
            return
        self._written = True
        raw = b"".join(self._chunks)
        entry = self._entry
        truncated = self._size > self._recorder._cap
        if truncated:
            raw = raw[: self._recorder._cap]
            entry["truncated"] = True
        elif not self._complete and "error" not in entry:
            entry["incomplete"] = True
        entry.update(_body_fields(raw, self._response.headers.get("content-encoding")))
        self._recorder.write(entry)


def _body_fields(raw: bytes, encoding: str | None) -> dict[str, Any]:
    body = raw
    if encoding and encoding.lower() != "identity":
        try:
            body = httpx.Response(200, headers={"content-encoding": encoding}, content=raw).content
        except httpx.DecodingError:
            body = raw
    try:
        return {"body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_b64": base64.b64encode(body).decode("ascii")}


def _message(exc: BaseException) -> str:
    return redact(str(exc))[:300]


# -- replay ------------------------------------------------------------------------------


def load_recording(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The exchanges of a recording; unreadable lines (a crash mid-write) are skipped."""
    entries: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("%s:%d: not JSON, skipped", path, number)
                continue
            if not isinstance(entry, dict) or not {"method", "path"} <= entry.keys():
                log.warning("%s:%d: not an exchange, skipped", path, number)
                continue
            entries.append(entry)
    return entries


class ReplayTransport(httpx.AsyncBaseTransport):
    """Serves a recording's responses to matching requests.

    A request matches an exchange with the same method and path, and the same query
    parameters when the exchange recorded them. A request the recording never saw gets
    a 501.

    With `speed` > 0 the recording plays on a replay clock: the first response starts it
    at that exchange's recorded time, and from then on it runs `speed` times as fast as
    `clock` (speed 4 = four times as fast), stopping at the recording's last exchange.
    Each request gets the latest matching exchange that is due on that clock: the hub
    as it was then, whatever happened in between unseen (skipped), exactly as a live
    consumer polling at that moment would have seen it. So the replay plays at `speed`
    however often it is asked, and never waits. A request whose matching exchanges all
    lie ahead of the clock (a filter recorded only later) gets the earliest one at once,
    and the clock does not move. With `loop`, a request once the clock has passed the
    last exchange starts the recording over.

    With `speed` 0 there is no clock: each request gets the next matching exchange not
    yet served, at once (as fast as the consumer asks); when they run out, the last one
    is served again (the view holds still at the end of the recording), or with `loop`
    the first one again.

    An event-stream exchange is served once; asked again, the stream stays open and quiet.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        speed: float = 1.0,
        loop: bool = False,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path)
        self.entries = load_recording(path)
        self.speed = max(0.0, float(speed))
        self.loop = loop
        self._clock = clock
        self._served: set[int] = set()
        stamps = [t for e in self.entries if (t := _stamp(e)) is not None]
        #: The recording's first and last recorded times (the wall clock if it has none:
        #: then the replay clock never starts).
        self._first = min(stamps, default=time.time())
        self._end = max(stamps, default=self._first)
        #: Where the replay clock started: (recorded time, `clock()` then); speed > 0.
        self._anchor: tuple[float, float] | None = None
        #: Recorded time of the last exchange served (the clock at speed 0).
        self._last_t: float | None = None
        #: Index of every exchange served, in order (for tests and --log).
        self.history: list[int] = []

    def _candidates(self, request: httpx.Request) -> list[int]:
        params = dict(request.url.params)
        return [
            i
            for i, e in enumerate(self.entries)
            if e["method"] == request.method
            and e["path"] == request.url.path
            and ("params" not in e or e["params"] == params)
        ]

    def _order(self, index: int) -> tuple[float, int]:
        stamp = _stamp(self.entries[index])
        return (float("-inf") if stamp is None else stamp, index)

    def _pick(self, request: httpx.Request) -> int | None:
        candidates = self._candidates(request)
        if not candidates:
            return None
        index = self._pick_paced(candidates) if self.speed > 0 else self._pick_next(candidates)
        if index in self._served and _is_event_stream(self.entries[index]):
            return -1
        return index

    def _pick_next(self, candidates: list[int]) -> int:
        fresh = [i for i in candidates if i not in self._served]
        if fresh:
            return fresh[0]
        if self.loop:
            self._served.difference_update(candidates)
            return candidates[0]
        return candidates[-1]

    def _pick_paced(self, candidates: list[int]) -> int:
        earliest = min(candidates, key=self._order)
        if self._anchor is None:
            stamp = _stamp(self.entries[earliest])
            if stamp is not None:
                self._anchor = (stamp, self._clock())
            return earliest
        position = self._position()
        if self.loop and position > self._end:
            self._anchor = (self._first, self._clock())
            self._served.clear()
            position = self._first
        due = [i for i in candidates if self._order(i)[0] <= position]
        return max(due, key=self._order) if due else earliest

    def _position(self) -> float:
        """The replay clock, unclamped (speed > 0, once started)."""
        assert self._anchor is not None
        recorded, started_at = self._anchor
        return recorded + (self._clock() - started_at) * self.speed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = self._pick(request)
        if index is None:
            title = f"not in the recording: {request.method} {request.url.path}"
            if request.url.query:
                title += "?" + request.url.query.decode("ascii", "replace")
            body = {"error": {"type": "not_recorded", "title": title}, "status": "error"}
            return httpx.Response(501, json=body)
        if index == -1:
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, stream=_QuietStream()
            )
        entry = self.entries[index]
        self._served.add(index)
        self.history.append(index)
        stamp = _stamp(entry)
        if stamp is not None:
            self._last_t = stamp
        return await _response_for(entry)

    def recorded_time(self) -> float | None:
        """Where the replay stands on the recording's clock (for ages and "ago" texts);
        None before the first response. At speed 0, the time of the exchange served
        last; otherwise the replay clock, held at the recording's end once there."""
        if self.speed == 0 or self._anchor is None:
            return self._last_t
        return min(self._position(), self._end)

    def now(self) -> float:
        """A `time.time` stand-in for a replayed session: the recording's clock, from
        its first exchange on (the wall clock for an empty recording)."""
        recorded = self.recorded_time()
        return self._first if recorded is None else recorded

    async def aclose(self) -> None:
        return None


def _stamp(entry: dict[str, Any]) -> float | None:
    t = entry.get("t")
    return float(t) if isinstance(t, int | float) and not isinstance(t, bool) else None


def _is_event_stream(entry: dict[str, Any]) -> bool:
    headers = entry.get("headers") or {}
    return "text/event-stream" in str(headers.get("content-type", ""))


def _recorded_error(entry: dict[str, Any]) -> Exception:
    name = str(entry["error"])
    exc_type = getattr(httpx, name, None)
    if not (isinstance(exc_type, type) and issubclass(exc_type, httpx.TransportError)):
        exc_type = httpx.TransportError
    return exc_type(str(entry.get("message") or name))


async def _response_for(entry: dict[str, Any]) -> httpx.Response:
    error = entry.get("error")
    if error == STALLED:
        await asyncio.Event().wait()  # until the caller's deadline cancels us
    if error and "status" not in entry:
        raise _recorded_error(entry)
    if "body_b64" in entry:
        body = base64.b64decode(entry["body_b64"])
    else:
        body = str(entry.get("body") or "").encode("utf-8")
    headers = {k: str(v) for k, v in (entry.get("headers") or {}).items() if k != "content-length"}
    recorded_length = (entry.get("headers") or {}).get("content-length")
    if entry.get("truncated"):
        # Over the recorder's cap: keep it over any client's cap.
        if recorded_length:
            headers["content-length"] = str(recorded_length)
        return httpx.Response(
            int(entry.get("status") or 200), headers=headers, stream=_Endless(body)
        )
    if error:
        return httpx.Response(
            int(entry.get("status") or 200),
            headers=headers,
            stream=_BreaksOff(body, _recorded_error(entry)),
        )
    if entry.get("incomplete"):
        return httpx.Response(
            int(entry.get("status") or 200), headers=headers, stream=_Stalling(body)
        )
    return httpx.Response(int(entry.get("status") or 200), headers=headers, content=body)


class _QuietStream(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        await asyncio.Event().wait()
        yield b""  # pragma: no cover


class _Stalling(httpx.AsyncByteStream):
    def __init__(self, head: bytes) -> None:
        self._head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._head:
            yield self._head
        await asyncio.Event().wait()


class _BreaksOff(httpx.AsyncByteStream):
    def __init__(self, head: bytes, error: Exception) -> None:
        self._head = head
        self._error = error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._head:
            yield self._head
        raise self._error


class _Endless(httpx.AsyncByteStream):
    def __init__(self, head: bytes) -> None:
        self._head = head

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._head
        while True:
            yield _FILLER
            await asyncio.sleep(0)


__all__ = [
    "RECORDED_HEADERS",
    "RecordingTransport",
    "ReplayTransport",
    "load_recording",
]
