"""Build the client for a Settings: the network, the embedded demo hub in-process, or a
recording; optionally recording every exchange on the way."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from queue_tui.api.client import QueueClient
from queue_tui.config import Settings

# queue_tui.api.recording is imported only for --record / --replay (start-up time).


def demo_transport(
    *,
    seed: int = 7,
    clock: Callable[[], float] | None = None,
    chaos: float = 0.0,
    row_shape: str = "spec",
) -> httpx.AsyncBaseTransport:
    """The demo hub as an in-process ASGI transport: no port, no setup. It streams, so
    the hub's endless `GET /api/events` works in-process too. `row_shape="old"` serves
    the docs' older, status-less rows (see `create_app`). Its finished rows are kept 30
    minutes, not 24 h (`QueueSimulator.embedded`): it lives as long as the dashboard."""
    from queue_tui.api.asgi_stream import StreamingASGITransport
    from queue_tui.demo.server import create_app
    from queue_tui.demo.simulator import QueueSimulator

    sim = QueueSimulator.embedded(seed, clock or time.time)
    kwargs: dict = {"sim": sim, "row_shape": row_shape}
    if chaos:
        kwargs["chaos"] = chaos
    return StreamingASGITransport(create_app(**kwargs))


def client_and_clock(
    settings: Settings,
    *,
    seed: int = 7,
    chaos: float = 0.0,
    clock: Callable[[], float] | None = None,
) -> tuple[QueueClient, Callable[[], float]]:
    """The client for `settings` and the clock its rows are read on: on `--replay`, the
    recording's (`ReplayTransport.now`), so ages, event times and "updated Ns ago" read
    as they did when it was recorded; otherwise `clock` (which also drives the demo hub's
    simulator), by default the wall clock."""
    if settings.replay:
        from queue_tui.api.recording import ReplayTransport

        transport = ReplayTransport(settings.replay, speed=settings.replay_speed)
        return build_client(settings, transport=transport), transport.now
    return build_client(settings, seed=seed, chaos=chaos, clock=clock), clock or time.time


def build_client(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    seed: int = 7,
    clock: Callable[[], float] | None = None,
    chaos: float = 0.0,
    record: str | None = None,
    replay: str | None = None,
    speed: float | None = None,
) -> QueueClient:
    """`record`/`replay`/`speed` default to the Settings' (`--record`, `--replay`,
    `--speed`), so every caller that builds its client here honours those flags.

    A caller that wants the replay's clock (ages as they were when recorded) builds the
    `ReplayTransport` itself, passes it as `transport`, and uses its `now`."""
    replay = replay if replay is not None else settings.replay
    record = record if record is not None else settings.record
    if replay or record:
        from queue_tui.api.recording import RecordingTransport, ReplayTransport
    if replay and not isinstance(transport, ReplayTransport):
        transport = ReplayTransport(replay, speed=settings.replay_speed if speed is None else speed)
    elif transport is None and settings.demo:
        transport = demo_transport(seed=seed, clock=clock, chaos=chaos)
    if record:
        transport = RecordingTransport(transport or httpx.AsyncHTTPTransport(), record)
    return QueueClient(settings, transport=transport)
