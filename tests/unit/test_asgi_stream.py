"""The streaming in-process ASGI transport: ordinary requests, and endless streams."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from httpx_sse import aconnect_sse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=StreamingASGITransport(app), base_url="http://demo")


async def test_ordinary_requests_behave_like_asgi_transport() -> None:
    app = create_app(seed=7, clock=FakeClock())
    async with _client(app) as client:
        listed = await client.get("/api/ai/queue", params={"status": "queued"})
        assert listed.status_code == 200
        assert {g["status"] for g in listed.json()["generations"]} <= {"queued"}
        created = await client.post("/api/ai/queue", json={"model": "m", "prompt": "p"})
        assert created.status_code == 200
        (new,) = created.json()["generations"]
        one = await client.get(f"/api/ai/queue/{new['generation_id']}")
        assert one.json()["generation_id"] == new["generation_id"]
        missing = await client.get("/api/ai/queue/nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "resource_not_found"
        assert (await client.delete("/api/ai/queue/nope")).status_code == 404


async def test_event_stream_yields_before_the_response_ends() -> None:
    """httpx.ASGITransport would wait for the (endless) body; this one streams it."""
    clock = FakeClock()
    app = create_app(seed=7, clock=clock, tick=0.01)
    sim = app.state.sim

    async def move_time() -> None:
        while True:
            clock.advance(5)
            await asyncio.sleep(0.01)

    mover = asyncio.create_task(move_time())
    try:
        async with _client(app) as client:
            async with aconnect_sse(client, "GET", "/api/events") as source:
                assert source.response.status_code == 200
                assert sim.subscriber_count == 1
                async for sse in source.aiter_sse():
                    assert sse.event in ("media_generation_completed", "workspace_updated")
                    if sse.event == "media_generation_completed":
                        assert sse.json()["status"] in ("succeeded", "failed")
                        break
            # Closing the response disconnects the app, which unsubscribes.
            await asyncio.sleep(0)
            assert sim.subscriber_count == 0
    finally:
        mover.cancel()


async def test_read_timeout_between_chunks() -> None:
    async def slow(request: Request) -> StreamingResponse:
        async def body():
            yield b"first\n"
            await asyncio.sleep(30)
            yield b"never\n"

        return StreamingResponse(body(), media_type="text/plain")

    app = Starlette(routes=[Route("/slow", slow)])
    timeout = httpx.Timeout(5.0, read=0.2)
    async with _client(app) as client, client.stream("GET", "/slow", timeout=timeout) as resp:
        chunks = resp.aiter_raw()
        assert await chunks.__anext__() == b"first\n"
        with pytest.raises(httpx.ReadTimeout):
            await chunks.__anext__()


async def test_read_timeout_before_the_response_starts_tells_the_app() -> None:
    heard_disconnect = asyncio.Event()

    async def stall(scope, receive, send) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        heard_disconnect.set()

    async with _client(stall) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/", timeout=httpx.Timeout(5.0, read=0.1))
    assert heard_disconnect.is_set()


async def test_app_exception_is_raised() -> None:
    async def boom(request: Request) -> JSONResponse:
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/boom", boom)])
    async with _client(app) as client:
        with pytest.raises(RuntimeError, match="boom"):
            await client.get("/boom")


async def test_head_has_no_body() -> None:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    app = Starlette(routes=[Route("/", hello, methods=["GET", "HEAD"])])
    async with _client(app) as client:
        resp = await client.head("/")
        assert resp.status_code == 200
        assert resp.content == b""


async def test_a_reader_cancelled_while_the_app_winds_down_is_cancelled() -> None:
    """Closing a stream waits a moment for the app to end; a cancel of the reader in that
    moment must end the reader (an event stream swallowing it reconnected for ever)."""
    closing = asyncio.Event()

    async def deaf_app(scope, receive, send) -> None:  # never listens for the disconnect
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await asyncio.sleep(3600)

    async def reader() -> str:
        async with _client(deaf_app) as client, client.stream("GET", "/events") as response:
            async for _ in response.aiter_bytes():
                break
            closing.set()
        return "went on after its cancel"

    task = asyncio.create_task(reader())
    await closing.wait()
    await asyncio.sleep(0.1)  # the reader is closing the response: the app's grace
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
