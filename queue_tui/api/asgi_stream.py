"""An httpx transport that runs an ASGI app in-process and *streams* its responses.

`httpx.ASGITransport` awaits the whole application call and hands back the joined
body, so an endless response (the hub's `GET /api/events` Server-Sent Events stream)
never yields a single byte through it. This transport runs the app as a task and feeds
each `http.response.body` message into the response stream as it is sent; closing the
response tells the app the client went away (`http.disconnect`) and ends the task.

It behaves like `httpx.ASGITransport` for ordinary requests (the embedded `--demo` hub
uses it for everything), and honours httpx's read timeout between body chunks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import httpx

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Message, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

_END = object()
#: Seconds an app gets to finish after the client disconnects before it is cancelled.
_SHUTDOWN_GRACE = 1.0


class _AppFailed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _ASGIResponseStream(httpx.AsyncByteStream):
    def __init__(
        self,
        chunks: asyncio.Queue[Any],
        task: asyncio.Task[None],
        disconnected: asyncio.Event,
        *,
        read_timeout: float | None,
        raise_app_exceptions: bool,
        failure: list[BaseException],
    ) -> None:
        self._failure = failure
        self._chunks = chunks
        self._task = task
        self._disconnected = disconnected
        self._read_timeout = read_timeout
        self._raise = raise_app_exceptions
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self._done:
            try:
                if self._read_timeout is None:
                    item = await self._chunks.get()
                else:
                    item = await asyncio.wait_for(self._chunks.get(), self._read_timeout)
            except TimeoutError:
                raise httpx.ReadTimeout("no body chunk within the read timeout") from None
            if item is _END:
                self._done = True
                # Like httpx.ASGITransport: an app that fails after its last byte (e.g.
                # Starlette's error middleware re-raising after the 500) still raises.
                await _finish(self._task)
                if self._failure and self._raise:
                    raise self._failure[0]
                return
            if isinstance(item, _AppFailed):
                self._done = True
                if self._raise:
                    raise item.error
                raise httpx.RemoteProtocolError(
                    f"the app failed mid-response ({type(item.error).__name__})"
                )
            yield item

    async def aclose(self) -> None:
        self._done = True
        self._disconnected.set()
        await _finish(self._task)


async def _finish(task: asyncio.Task[None]) -> None:
    """Give a disconnected app a moment to end by itself, then cancel it. A cancel of
    the caller is passed on, once the app is told to stop: swallowed, it would leave a
    cancelled event stream reconnecting for ever."""
    if task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), _SHUTDOWN_GRACE)
    except asyncio.CancelledError:
        if _cancelling():
            task.cancel()
            raise
    except Exception:  # the grace ran out, or the app failed: it ends either way
        pass
    if not task.done():
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if _cancelling():
                raise
        except Exception:
            pass


def _cancelling() -> bool:
    """Whether the running task itself is being cancelled."""
    current = asyncio.current_task()
    return current is not None and current.cancelling() > 0


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Like `httpx.ASGITransport`, but the body streams while the app is still sending."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_app_exceptions: bool = True,
        root_path: str = "",
        client: tuple[str, int] = ("127.0.0.1", 123),
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.root_path = root_path
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        scope: Message = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": self.root_path,
        }
        body_chunks = request.stream.__aiter__()
        request_complete = False
        disconnected = asyncio.Event()
        started = asyncio.Event()
        chunks: asyncio.Queue[Any] = asyncio.Queue()
        response: dict[str, Any] = {}
        failure: list[BaseException] = []
        is_head = request.method == "HEAD"

        async def receive() -> Message:
            nonlocal request_complete
            if request_complete or disconnected.is_set():
                await disconnected.wait()
                return {"type": "http.disconnect"}
            try:
                body = await body_chunks.__anext__()
            except StopAsyncIteration:
                request_complete = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.request", "body": body, "more_body": True}

        async def send(message: Message) -> None:
            if disconnected.is_set():
                # What a server does once the peer has gone: the app stops sending.
                raise OSError("client disconnected")
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
                response["headers"] = message.get("headers", [])
                started.set()
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if body and not is_head:
                    chunks.put_nowait(bytes(body))
                if not message.get("more_body", False):
                    chunks.put_nowait(_END)

        async def run_app() -> None:
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                if started.is_set() and not disconnected.is_set():
                    chunks.put_nowait(_AppFailed(exc))
                failure.append(exc)
            finally:
                started.set()
                chunks.put_nowait(_END)

        task = asyncio.create_task(run_app(), name=f"asgi {request.method} {request.url.path}")
        timeout = request.extensions.get("timeout") or {}
        read_timeout = timeout.get("read")
        try:
            # Like a socket read: an app that says nothing for the read timeout fails
            # the request (and hears the client hang up).
            await asyncio.wait_for(started.wait(), read_timeout)
        except TimeoutError:
            disconnected.set()
            await _finish(task)
            raise httpx.ReadTimeout("no response within the read timeout") from None
        except BaseException:
            disconnected.set()
            task.cancel()
            raise
        if failure and "status" not in response:
            if self.raise_app_exceptions:
                raise failure[0]
            response.setdefault("status", 500)
        stream = _ASGIResponseStream(
            chunks,
            task,
            disconnected,
            read_timeout=read_timeout,
            raise_app_exceptions=self.raise_app_exceptions,
            failure=failure,
        )
        return httpx.Response(
            response.get("status", 500),
            headers=response.get("headers", []),
            stream=stream,
            request=request,
        )


__all__ = ["StreamingASGITransport"]
