"""The demo hub's event stream runs without an anyio task group (see
`queue_tui.api.wire.EventStreamResponse`): opening it in-process, as `queue-tui
--demo` does while it starts, does not import anyio's asyncio backend, and a client
that goes away still ends the stream (the simulator loses its subscriber)."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import asyncio, json, sys
import httpx
from queue_tui.api.asgi_stream import StreamingASGITransport
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import create_app
from queue_tui.demo.simulator import QueueSimulator

clock = FakeClock(1_764_000_000.0)
sim = QueueSimulator(7, clock, warmup=600.0)
app = create_app(sim, tick=0.01)

async def main():
    transport = StreamingASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo.test") as http:
        async with http.stream("GET", "/api/events") as response:
            status = response.status_code
            chunks = response.aiter_bytes()
            clock.advance(120.0)
            first = await asyncio.wait_for(chunks.__anext__(), 10)
            subscribed = sim.subscriber_count
    for _ in range(200):
        if sim.subscriber_count == 0:
            break
        await asyncio.sleep(0.01)
    return {
        "status": status,
        "event": first.startswith(b"event: "),
        "subscribed": subscribed,
        "after": sim.subscriber_count,
        "anyio_backend": "anyio._backends._asyncio" in sys.modules,
    }

print(json.dumps(asyncio.run(main())))
"""


def test_the_in_process_event_stream_needs_no_anyio_backend() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == {
        "status": 200,
        "event": True,
        "subscribed": 1,
        "after": 0,
        "anyio_backend": False,
    }
