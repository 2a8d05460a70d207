"""Build the client for a Settings: the network, or the embedded demo hub in-process."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from queue_tui.api.client import QueueClient
from queue_tui.config import Settings


def demo_transport(
    *, seed: int = 7, clock: Callable[[], float] | None = None, chaos: float = 0.0
) -> httpx.AsyncBaseTransport:
    """The demo hub as an in-process ASGI transport: no port, no setup."""
    from queue_tui.demo.server import create_app

    kwargs: dict = {"seed": seed, "clock": clock}
    if chaos:
        kwargs["chaos"] = chaos
    return httpx.ASGITransport(app=create_app(**kwargs))


def build_client(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    seed: int = 7,
    clock: Callable[[], float] | None = None,
    chaos: float = 0.0,
) -> QueueClient:
    if transport is None and settings.demo:
        transport = demo_transport(seed=seed, clock=clock, chaos=chaos)
    return QueueClient(settings, transport=transport)
