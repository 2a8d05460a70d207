"""Chaos mode: an ASGI middleware that makes the demo hub misbehave like a real one can.

On a fraction `rate` of `GET /api/ai/queue` requests it injects one fault, chosen by a
seeded RNG so a run can be repeated: server errors with HTML bodies, gateways failing,
rate limiting (Retry-After in seconds or as an HTTP date), a stall longer than any sane
timeout, bodies that are not JSON or not a queue page, pages with malformed rows among
good ones, and hostile rows built to break a terminal UI (markup, escape sequences, bidi
overrides, enormous texts, unknown enums, wrong types, extra fields).

`queue-tui --demo --chaos` and `queue-tui demo-server --chaos RATE` switch it on;
`create_app(chaos=rate)` wires it into the demo app.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from queue_tui.api.wire import hub_json

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

QUEUE_PATH = "/api/ai/queue"
FAULTS: tuple[str, ...] = (
    "server_error_html",
    "bad_gateway",
    "unavailable",
    "rate_limited",
    "rate_limited_date",
    "stall",
    "not_json",
    "wrong_shape",
    "malformed_rows",
    "hostile_rows",
)
#: Longer than the client's whole deadline (timeout + connect timeout, 15 s by default).
DEFAULT_STALL = 30.0

_IDS = uuid.UUID("5c4a0e0e-c4a0-4c4a-8c4a-c4a0c4a0c4a0")

HTML_500 = (
    "<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head>"
    "<body><h1>Internal Server Error</h1><p>The worker pool raised an exception.</p>"
    "</body></html>"
)
HTML_502 = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>"
)
NOT_JSON_BODIES = (
    b"<html><body>Service temporarily unavailable</body></html>",
    b"upstream connect error or disconnect/reset before headers. reset reason: overflow",
    b'{"count": 3, "generations": [{"generation_id": "trunc',
    b"\x1f\x8b\x08\x00 binary garbage \xff\xfe",
)
WRONG_SHAPES: tuple[Any, ...] = (
    {"data": {"items": []}},
    {"generations": {"count": 3}},
    {"count": 2, "generations": "none"},
    "ok",
    42,
)


def _id(name: str) -> str:
    return str(uuid.uuid5(_IDS, name))


def malformed_rows() -> list[Any]:
    """Malformed rows, none of them fatal: a row with a usable id is kept with its bad
    field set aside (shown `?`, raw value in `invalid_fields`); only a row without a usable
    id (or not an object at all) is dropped, and counted."""
    return [
        {"model_name": "no-id-at-all", "status": "queued", "enqueued_at": 1},
        {"generation_id": None, "status": "processing"},
        {"generation_id": _id("bad-status"), "status": 42},
        {"generation_id": _id("bad-time"), "status": "queued", "enqueued_at": "yesterday"},
        {"generation_id": _id("dict-time"), "status": "queued", "started_at": {"t": 1}},
        {"generation_id": _id("list-model"), "model_name": ["flux"], "status": "queued"},
        "oops, a string",
        None,
        [1, 2, 3],
    ]


def hostile_rows(now: float) -> list[dict[str, Any]]:
    """Rows that parse, and then try to break the screen that shows them."""
    t = int(now)

    def row(name: str, **fields: Any) -> dict[str, Any]:
        base: dict[str, Any] = {
            "generation_id": _id(name),
            "model_name": "flux-dev",
            "media_type": "image",
            "status": "processing",
            "enqueued_at": t - 90,
            "started_at": t - 30,
            "completed_at": None,
            "error_message": None,
            "result_url": None,
            "target_namespace": "chaos",
            "target_repo": "hostile",
            "target_directory": None,
        }
        base.update(fields)
        return base

    return [
        row("markup", model_name="[bold red]x[/]", prompt="[/] closing nothing [/bold]"),
        row(
            "click",
            model_name="[@click=app.quit]quit[/]",
            prompt="[@click=app.bell]ring[/] [link=https://evil.example]here[/link]",
        ),
        row(
            "ansi",
            status="failed",
            completed_at=t - 5,
            error_message="\x1b[31mRED\x1b[0m \x1b[2J\x1b[H\x1b[?1049h screen cleared?",
        ),
        row("osc-title", target_repo="repo\x1b]0;pwned title\x07", prompt="\x1b]2;t2\x1b\\"),
        row(
            "osc52",
            status="failed",
            completed_at=t - 3,
            error_message="copy me\x1b]52;c;cm0gLXJmIH4K\x07 please",
        ),
        row("bidi", model_name="\u202eevil-model\u202c", target_directory="\u2066dir\u2069"),
        row(
            "c1",
            model_name="c1\x9b31m-csi\x9d0;t\x9c",
            prompt="nul\x00 bel\x07 bs\x08 del\x7f",
        ),
        row(
            "huge-error",
            status="failed",
            completed_at=t - 1,
            error_message="Traceback (most recent call last):\n" + "  boom " * 15_000,
        ),
        row("long-model", model_name="m" * 5000, prompt="p" * 20_000),
        row("unknown-enums", status="paused", media_type="audio"),
        row("future-enum", status="expired", media_type="3d-mesh"),
        row(
            "wrong-types",
            enqueued_at=str(t - 60),
            started_at=float(t - 20),
            error_message=404,
            target_repo=12345,
        ),
        row(
            "extra-fields",
            seed=2**63,
            aspect_ratio="[bold]16:9[/]",
            duration=None,
            nested={"deep": ["\x1b[5mblink\x1b[0m"]},
            retried_from_id=_id("markup"),
            **{"[weird key]": "\x1b]0;k\x07"},
        ),
        row(
            "urls",
            status="succeeded",
            completed_at=t - 2,
            result_url="javascript:alert(document.cookie)",
        ),
        row(
            "newlines",
            model_name="line1\nline2\r\nline3\u2028line4",
            prompt="tabs\tand\x0bvertical\x0cfeeds",
        ),
        {"model_name": "hostile row without an id", "status": "queued"},
    ]


class ChaosMiddleware:
    """Injects one fault into a fraction `rate` of queue list requests."""

    def __init__(
        self,
        app: ASGIApp,
        rate: float = 0.1,
        seed: int = 0,
        *,
        faults: Sequence[str] = FAULTS,
        stall_seconds: float = DEFAULT_STALL,
        path: str = QUEUE_PATH,
    ) -> None:
        unknown = set(faults) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown chaos faults: {', '.join(sorted(unknown))}")
        if not faults:
            raise ValueError("no chaos faults to choose from")
        self.app = app
        self.rate = min(1.0, max(0.0, float(rate)))
        self.faults = tuple(faults)
        self.stall_seconds = stall_seconds
        self.path = path
        self._rng = random.Random(seed)
        #: How often each fault was injected.
        self.injected: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or scope.get("path") != self.path
            or self._rng.random() >= self.rate
        ):
            await self.app(scope, receive, send)
            return
        fault = self._rng.choice(self.faults)
        self.injected[fault] += 1
        log.debug("chaos: %s", fault)
        handler: Callable[[Scope, Receive, Send], Awaitable[None]] = getattr(self, f"_{fault}")
        await handler(scope, receive, send)

    # -- faults ----------------------------------------------------------------------

    async def _server_error_html(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _respond(send, 500, HTML_500.encode(), "text/html; charset=utf-8")

    async def _bad_gateway(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _respond(send, 502, HTML_502.encode(), "text/html")

    async def _unavailable(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = {"error": {"type": "service_unavailable", "title": "Queue is restarting"}}
        await _respond_json(send, 503, {**body, "status": "error"})

    async def _rate_limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        seconds = self._rng.randint(2, 8)
        await _respond_json(send, 429, _rate_body(), headers={"retry-after": str(seconds)})

    async def _rate_limited_date(self, scope: Scope, receive: Receive, send: Send) -> None:
        when = email.utils.formatdate(time.time() + self._rng.randint(3, 10), usegmt=True)
        await _respond_json(send, 429, _rate_body(), headers={"retry-after": when})

    async def _stall(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Say nothing for `stall_seconds` (or until the client hangs up), then answer."""
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), self.stall_seconds)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if not gone.is_set():
            await self.app(scope, _no_body, send)

    async def _not_json(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _respond(send, 200, self._rng.choice(NOT_JSON_BODIES), "application/json")

    async def _wrong_shape(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _respond_json(send, 200, self._rng.choice(WRONG_SHAPES))

    async def _malformed_rows(self, scope: Scope, receive: Receive, send: Send) -> None:
        bad = malformed_rows()
        chosen = self._rng.sample(bad, self._rng.randint(1, len(bad)))
        await self._with_rows(scope, receive, send, lambda now: chosen)

    async def _hostile_rows(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._with_rows(scope, receive, send, hostile_rows)

    async def _with_rows(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        make_rows: Callable[[float], list[Any]],
    ) -> None:
        """The real page from the app, with extra rows scattered among the good ones."""
        status, headers, body = await _capture(self.app, scope, receive)
        try:
            page = json.loads(body)
        except ValueError:
            page = None
        rows = page.get("generations") if isinstance(page, dict) else None
        if not isinstance(page, dict) or not isinstance(rows, list):
            await _respond(send, status, body, headers.get("content-type", "application/json"))
            return
        stamps = [r.get("enqueued_at") for r in rows if isinstance(r, dict)]
        now = max((s for s in stamps if isinstance(s, int | float)), default=time.time())
        for extra in make_rows(float(now)):
            rows.insert(self._rng.randint(0, len(rows)), extra)
        page["count"] = len(rows)
        await _respond_json(send, status, page)


def _rate_body() -> dict[str, Any]:
    return {"error": {"type": "rate_limited", "title": "Too many requests"}, "status": "error"}


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _capture(
    app: ASGIApp, scope: Scope, receive: Receive
) -> tuple[int, dict[str, str], bytes]:
    status = 500
    headers: dict[str, str] = {}
    chunks: list[bytes] = []

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.update(
                (k.decode("latin-1").lower(), v.decode("latin-1"))
                for k, v in message.get("headers", [])
            )
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return status, headers, b"".join(chunks)


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    raw = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
    ]
    raw += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _respond_json(
    send: Send, status: int, data: Any, headers: dict[str, str] | None = None
) -> None:
    await _respond(send, status, hub_json(data), "application/json", headers)


__all__ = ["DEFAULT_STALL", "FAULTS", "ChaosMiddleware", "hostile_rows", "malformed_rows"]
