"""A relay's own health in its viewers' status bars: the relay says how its link to the
hub is on every answer, the client keeps it (cleaned), the dashboard model hands it to
the status bar, which reads "via relay · upstream stale 42s (unreachable)"."""

from __future__ import annotations

import time

import httpx
import respx

from queue_tui.api.client import (
    RELAY_ACTIONS_HEADER,
    RELAY_HEADER,
    RELAY_UPSTREAM_HEADER,
    QueueClient,
)
from queue_tui.api.errors import UnreachableError
from queue_tui.config import Settings
from queue_tui.core.dashboard import DashboardModel
from queue_tui.core.poller import Poller
from queue_tui.relay.state import Relay
from queue_tui.tui.widgets.status_bar import render_state_line

HOST = "https://relay.test"
START = 1_764_000_000.0
PAGE = {"count": 0, "generations": []}


def settings() -> Settings:
    return Settings(host=HOST, token="tok", token_source="--token")


def answer(**headers: str) -> httpx.Response:
    return httpx.Response(200, json=PAGE, headers=headers)


@respx.mock
async def test_the_model_hands_the_relays_trouble_to_the_status_bar(
    respx_mock: respx.Router,
) -> None:
    respx_mock.get(f"{HOST}/api/ai/queue").mock(
        side_effect=[
            answer(**{RELAY_HEADER: "0.9.0", RELAY_UPSTREAM_HEADER: "ok"}),
            # Hub text cannot get in: the header is cleaned like any answer's text.
            answer(**{RELAY_HEADER: "0.9.0", RELAY_UPSTREAM_HEADER: "stale 42s (unreachable)"}),
            answer(**{RELAY_HEADER: "0.9.0", RELAY_UPSTREAM_HEADER: "\x1b[31mstale\x07 9s"}),
            answer(**{RELAY_UPSTREAM_HEADER: "stale 42s (unreachable)"}),  # a hub: no relay
        ]
    )
    client = QueueClient(settings())
    model = DashboardModel(settings(), client, lambda: START)
    poller = Poller(client, model.filters, interval=2.0)
    seen: list[tuple[str | None, str | None, str]] = []
    async with client:
        for _ in range(4):
            await client.fetch()
            state = model.status_state(poller, time.monotonic(), 0)
            line = render_state_line(state, 160).plain
            seen.append((state.via_relay, state.relay_upstream, line))
    assert [(via, upstream) for via, upstream, _ in seen] == [
        ("0.9.0", None),
        ("0.9.0", "stale 42s (unreachable)"),
        ("0.9.0", "stale 9s"),
        (None, None),
    ]
    assert "via relay" in seen[0][2] and "upstream" not in seen[0][2]
    assert "relay.test via relay · upstream stale 42s (unreachable)" in seen[1][2]
    assert "upstream" not in seen[3][2] and "via relay" not in seen[3][2]


def test_the_relay_says_how_its_link_to_the_hub_is() -> None:
    relay = Relay(
        QueueClient(Settings(host="http://127.0.0.1:9", interval=5.0)),
        filters=Settings().filters,
        interval=5.0,
        linger=600,
        resolve_limit=30,
    )
    assert relay.upstream_note() == "no answer yet"
    relay.last_error = UnreachableError("cannot reach http://127.0.0.1:9: connection refused")
    assert relay.upstream_note() == "no answer yet (unreachable)"
    relay.last_good, relay.last_error = time.time(), None
    assert relay.upstream_note() == "ok"
    relay.last_good = time.time() - 42.2
    relay.last_error = UnreachableError("cannot reach it")
    # Its fault's kind, a fixed word: never the hub's text.
    assert relay.upstream_note() == "stale 42s (unreachable)"


@respx.mock
async def test_the_client_knows_whether_the_relay_forwards_actions(
    respx_mock: respx.Router,
) -> None:
    respx_mock.get(f"{HOST}/api/ai/queue").mock(
        side_effect=[
            answer(**{RELAY_HEADER: "0.9.0", RELAY_ACTIONS_HEADER: "off"}),
            answer(**{RELAY_HEADER: "0.9.0", RELAY_ACTIONS_HEADER: "on"}),
            answer(**{RELAY_HEADER: "0.9.0"}),  # an older relay: it does not say
            answer(**{RELAY_ACTIONS_HEADER: "off"}),  # a hub: only a relay's word counts
        ]
    )
    seen = []
    async with QueueClient(settings()) as client:
        for _ in range(4):
            await client.fetch()
            seen.append(client.relay_read_only)
    assert seen == [True, False, False, False]
