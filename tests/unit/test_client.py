"""QueueClient against stubbed HTTP (respx): every fault maps to one typed, human error."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import json
import logging
import time
from typing import Any

import httpx
import pytest
import respx

from queue_tui import __version__
from queue_tui.api.client import QUEUE_PATH, CancelOutcome, QueueClient, parse_retry_after
from queue_tui.api.errors import (
    AuthError,
    BadPayloadError,
    InsecureTokenError,
    NotFoundError,
    QueueError,
    RateLimitedError,
    RequestRejectedError,
    RequestTimeoutError,
    ServerError,
    UnreachableError,
)
from queue_tui.api.filters import QueueFilters
from queue_tui.config import Settings

HOST = "https://hub.test"
TOKEN = "tok_MARKER_client_5ecr3t"
NOW = 1_764_000_000


def settings(**kw: Any) -> Settings:
    base: dict[str, Any] = {"host": HOST, "token": TOKEN, "token_source": "--token"}
    base.update(kw)
    return Settings(**base)


def row(gid: str = "g1", **kw: Any) -> dict[str, Any]:
    out = {
        "generation_id": gid,
        "model_name": "flux-dev",
        "media_type": "image",
        "status": "queued",
        "enqueued_at": NOW,
    }
    out.update(kw)
    return out


def page(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"count": len(rows), "generations": list(rows)}


async def fetch_error(response: httpx.Response | Exception, **kw: Any) -> QueueError:
    with respx.mock(base_url=HOST, assert_all_called=False) as mock:
        route = mock.get(QUEUE_PATH)
        if isinstance(response, Exception):
            route.side_effect = response
        else:
            route.return_value = response
        async with QueueClient(settings(**kw)) as client:
            with pytest.raises(QueueError) as info:
                await client.fetch()
    return info.value


# -- the happy path --------------------------------------------------------------------


@respx.mock(base_url=HOST)
async def test_fetch_parses_page_and_sends_auth_and_user_agent(respx_mock: respx.Router) -> None:
    route = respx_mock.get(QUEUE_PATH).respond(json=page(row("a"), row("b", status="processing")))
    async with QueueClient(settings()) as client:
        result = await client.fetch()
    assert [g.generation_id for g in result.page.generations] == ["a", "b"]
    assert result.latency >= 0 and result.filters == QueueFilters()
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"] == f"queue-tui/{__version__}"
    assert request.url.params.multi_items() == []


@respx.mock(base_url=HOST)
async def test_only_set_filters_are_encoded(respx_mock: respx.Router) -> None:
    route = respx_mock.get(QUEUE_PATH).respond(json=page())
    filters = QueueFilters(model="flux dev/β", status="failed", repo="", search="client-side")
    async with QueueClient(settings()) as client:
        result = await client.fetch(filters)
    params = route.calls.last.request.url.params
    assert dict(params) == {"model": "flux dev/β", "status": "failed"}
    assert "search" not in str(route.calls.last.request.url)
    assert result.filters == filters


@respx.mock(base_url=HOST)
async def test_all_server_filters_reach_the_query(respx_mock: respx.Router) -> None:
    route = respx_mock.get(QUEUE_PATH).respond(json=page())
    filters = QueueFilters(
        namespace="ox", model="m", media_type="video", status="queued", repo="r", folder="f/g"
    )
    async with QueueClient(settings()) as client:
        await client.fetch(filters)
    assert dict(route.calls.last.request.url.params) == {
        "namespace": "ox",
        "model": "m",
        "media_type": "video",
        "status": "queued",
        "repo": "r",
        "folder": "f/g",
    }


@respx.mock(base_url=HOST)
async def test_no_token_no_authorization_header(respx_mock: respx.Router) -> None:
    route = respx_mock.get(QUEUE_PATH).respond(json=page())
    async with QueueClient(settings(token=None, token_source="none")) as client:
        await client.fetch()
    assert "Authorization" not in route.calls.last.request.headers


async def test_token_not_sent_over_plain_http_to_a_remote_host() -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get("http://hub.example.com/api/ai/queue").respond(json=page())
        async with QueueClient(settings(host="http://hub.example.com")) as client:
            with pytest.raises(InsecureTokenError) as info:
                await client.fetch()
        assert not route.called
        assert "--allow-insecure" in info.value.message
        assert info.value.exit_code == 2
        assert TOKEN not in info.value.message


async def test_allow_insecure_sends_the_token_over_http() -> None:
    with respx.mock() as mock:
        route = mock.get("http://hub.example.com/api/ai/queue").respond(json=page())
        async with QueueClient(
            settings(host="http://hub.example.com", allow_insecure=True)
        ) as client:
            await client.fetch()
        assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("host", ["http://127.0.0.1:8787", "http://localhost:9", "http://[::1]:1"])
async def test_token_over_http_to_loopback_is_fine(host: str) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{host}/api/ai/queue").respond(json=page())
        async with QueueClient(settings(host=host)) as client:
            await client.fetch()
        assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


# -- every fault, one typed error each -------------------------------------------------

HTML_500 = "<!DOCTYPE html><html><body><h1>Internal Server Error</h1></body></html>"


@pytest.mark.parametrize(
    ("response", "error_type", "message_part", "exit_code"),
    [
        pytest.param(
            httpx.ConnectError("[Errno 111] Connection refused"),
            UnreachableError,
            "cannot reach https://hub.test: connection refused",
            3,
            id="connect-refused",
        ),
        pytest.param(
            httpx.ConnectError("[Errno -2] Name or service not known"),
            UnreachableError,
            "host name not found",
            3,
            id="dns",
        ),
        pytest.param(
            httpx.ReadTimeout("timed out"),
            RequestTimeoutError,
            "read timeout talking to https://hub.test",
            3,
            id="read-timeout",
        ),
        pytest.param(
            httpx.ConnectTimeout("timed out"),
            RequestTimeoutError,
            "connect timeout talking to https://hub.test",
            3,
            id="connect-timeout",
        ),
        pytest.param(
            httpx.RemoteProtocolError("peer closed connection"),
            UnreachableError,
            "connection to https://hub.test lost",
            3,
            id="connection-dropped",
        ),
        pytest.param(
            httpx.Response(500, html=HTML_500),
            ServerError,
            "hub error 500: HTML error page",
            6,
            id="500-html",
        ),
        pytest.param(
            httpx.Response(502, text="Bad Gateway"),
            ServerError,
            "hub error 502: Bad Gateway",
            6,
            id="502",
        ),
        pytest.param(
            httpx.Response(503, json={"error": {"type": "unavailable", "title": "Maintenance"}}),
            ServerError,
            "hub error 503: Maintenance",
            6,
            id="503-json-title",
        ),
        pytest.param(
            httpx.Response(403, json={"error": "nope"}),
            AuthError,
            "forbidden (403): the token from --token was refused",
            4,
            id="403",
        ),
        pytest.param(
            httpx.Response(401),
            AuthError,
            "unauthorised (401): the token from --token was refused",
            4,
            id="401-with-token",
        ),
        pytest.param(
            httpx.Response(404, json={"error": {"type": "resource_not_found", "title": "x"}}),
            NotFoundError,
            "https://hub.test has no queue endpoint (404)",
            6,
            id="404",
        ),
        pytest.param(
            httpx.Response(422, json={"error": {"type": "invalid_params", "title": "bad status"}}),
            RequestRejectedError,
            "request rejected (422): bad status",
            2,
            id="422",
        ),
        pytest.param(
            httpx.Response(200, text="<html>login</html>"),
            BadPayloadError,
            "not JSON",
            7,
            id="not-json",
        ),
        pytest.param(
            httpx.Response(200, content=b"\xff\xfe\x00garbage"),
            BadPayloadError,
            "not JSON",
            7,
            id="binary",
        ),
        pytest.param(
            httpx.Response(200, json={"data": []}),
            BadPayloadError,
            "unexpected response shape: the response has no 'generations' list",
            7,
            id="wrong-shape",
        ),
        pytest.param(
            httpx.Response(200, json="just a string"),
            BadPayloadError,
            "unexpected response shape",
            7,
            id="json-string",
        ),
        pytest.param(
            httpx.Response(
                200,
                stream=httpx.ByteStream(b"not gzip at all"),
                headers={"Content-Encoding": "gzip"},
            ),
            BadPayloadError,
            "could not be decoded",
            7,
            id="bad-content-encoding",
        ),
    ],
)
async def test_fault_maps_to_typed_error(
    response: Any, error_type: type[QueueError], message_part: str, exit_code: int
) -> None:
    error = await fetch_error(response)
    assert type(error) is error_type
    assert message_part in error.message
    assert error.exit_code == exit_code
    assert "\n" not in error.message and TOKEN not in error.message
    assert str(error) == error.message


async def test_401_without_token_says_how_to_set_one() -> None:
    error = await fetch_error(httpx.Response(401), token=None, token_source="none")
    assert isinstance(error, AuthError) and error.status_code == 401
    assert "no API token was sent" in error.message
    assert "OXEN_API_KEY" in error.message and "--token" in error.message


async def test_401_names_the_token_source_never_the_token() -> None:
    error = await fetch_error(httpx.Response(401), token_source="OXEN_API_KEY")
    assert isinstance(error, AuthError)
    assert error.token_source == "OXEN_API_KEY"
    assert "OXEN_API_KEY" in error.message and TOKEN not in error.message


async def test_429_retry_after_seconds() -> None:
    error = await fetch_error(httpx.Response(429, headers={"Retry-After": "17"}))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 17
    assert "retry after 17s" in error.message
    assert error.exit_code == 5


async def test_429_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 120, usegmt=True)
    error = await fetch_error(httpx.Response(429, headers={"Retry-After": when}))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is not None and 100 < error.retry_after <= 121


async def test_429_without_retry_after() -> None:
    error = await fetch_error(httpx.Response(429))
    assert isinstance(error, RateLimitedError) and error.retry_after is None
    assert error.message == "rate limited by the hub (429)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
        ("Sat, 29 Nov 2025 16:00:30 GMT", 30.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=1_764_432_000.0) == expected


async def test_body_over_the_cap_declared_by_content_length() -> None:
    big = json.dumps(page(*[row(f"g{i}") for i in range(50)])).encode()
    error = await fetch_error(httpx.Response(200, content=big), max_body_bytes=1000)
    assert isinstance(error, BadPayloadError)
    assert "over the 1 kB cap" in error.message


async def test_body_over_the_cap_while_streaming() -> None:
    async def chunks():
        for _ in range(100):
            yield b" " * 100

    error = await fetch_error(httpx.Response(200, content=chunks()), max_body_bytes=1000)
    assert isinstance(error, BadPayloadError)
    assert "response is over the 1 kB cap" in error.message


async def test_gzip_body_is_decoded() -> None:
    body = gzip.compress(json.dumps(page(row("z"))).encode())
    with respx.mock(base_url=HOST) as mock:
        mock.get(QUEUE_PATH).respond(content=body, headers={"Content-Encoding": "gzip"})
        async with QueueClient(settings()) as client:
            result = await client.fetch()
    assert [g.generation_id for g in result.page.generations] == ["z"]


async def test_rows_without_id_dropped_bad_fields_degraded_good_rows_kept() -> None:
    body = page(row("ok-1"), {"model_name": "no id"}, row("bad", enqueued_at=[1]), row("ok-2"))
    with respx.mock(base_url=HOST) as mock:
        mock.get(QUEUE_PATH).respond(json=body)
        async with QueueClient(settings()) as client:
            result = await client.fetch()
    assert [g.generation_id for g in result.page.generations] == ["ok-1", "bad", "ok-2"]
    assert len(result.page.dropped) == 1 and result.page.degraded == 1


async def test_big_page_is_parsed_off_the_loop() -> None:
    # Above THREAD_PARSE_BYTES: parsed in a thread, same result.
    rows = [row(f"g{i}", prompt="p" * 200) for i in range(2000)]
    with respx.mock(base_url=HOST) as mock:
        mock.get(QUEUE_PATH).respond(json=page(*rows))
        async with QueueClient(settings()) as client:
            result = await client.fetch()
    assert len(result.page.generations) == 2000


async def test_overall_deadline_catches_a_stalled_in_process_app() -> None:
    # httpx enforces no timeout over ASGITransport; the client's own deadline does.
    async def stalled_app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(3600)

    client = QueueClient(
        settings(host="https://demo.test.invalid", timeout=0.05, connect_timeout=0.05),
        transport=httpx.ASGITransport(app=stalled_app),
    )
    async with client:
        with pytest.raises(RequestTimeoutError) as info:
            await client.fetch()
    assert "no complete answer from https://demo.test.invalid" in info.value.message


# -- the other endpoints ------------------------------------------------------------------


@respx.mock(base_url=HOST)
async def test_get_returns_row_or_none(respx_mock: respx.Router) -> None:
    respx_mock.get(f"{QUEUE_PATH}/g1").respond(json=row("g1", status="processing"))
    respx_mock.get(f"{QUEUE_PATH}/gone").respond(
        404, json={"error": {"type": "resource_not_found", "title": "Not found"}}
    )
    respx_mock.get(f"{QUEUE_PATH}/weird").respond(json=["not", "a", "row"])
    async with QueueClient(settings()) as client:
        gen = await client.get("g1")
        assert gen is not None and gen.status == "processing"
        assert await client.get("gone") is None
        with pytest.raises(BadPayloadError):
            await client.get("weird")


@respx.mock(base_url=HOST)
async def test_cancel_outcomes(respx_mock: respx.Router) -> None:
    respx_mock.delete(f"{QUEUE_PATH}/g1").respond(json={"status": "success", "generation_id": "g1"})
    respx_mock.delete(f"{QUEUE_PATH}/done").respond(404)
    respx_mock.delete(f"{QUEUE_PATH}/locked").respond(403)
    async with QueueClient(settings()) as client:
        assert await client.cancel("g1") is CancelOutcome.CANCELLED
        assert await client.cancel("done") is CancelOutcome.ALREADY_FINISHED
        with pytest.raises(AuthError):
            await client.cancel("locked")


@respx.mock(base_url=HOST)
async def test_enqueue_sends_body_and_returns_ids(respx_mock: respx.Router) -> None:
    route = respx_mock.post(QUEUE_PATH).respond(
        json={"generations": [{"generation_id": "n1", "status": "queued"}]}
    )
    async with QueueClient(settings()) as client:
        ids = await client.enqueue("flux-dev", "a cat", num_generations=1)
    assert ids == ["n1"]
    assert json.loads(route.calls.last.request.content) == {
        "model": "flux-dev",
        "prompt": "a cat",
        "num_generations": 1,
    }


# -- the token never leaks ---------------------------------------------------------------


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, text=f"invalid key Bearer {TOKEN}"),
        httpx.Response(403, json={"error": {"title": f"key {TOKEN} lacks scope"}}),
        httpx.Response(422, json={"error": {"title": f"echo: Authorization: Bearer {TOKEN}"}}),
        httpx.Response(422, text="x" * 100 + TOKEN),  # clipped mid-token
        httpx.Response(500, text=f"debug: headers={{'authorization': '{TOKEN}'}}"),
        httpx.Response(502, json={"message": TOKEN}),
        httpx.Response(503, text='{"error": "tok\\u005fMARKER\\u005fclient\\u005f5ecr3t"}'),
    ],
    ids=["401", "403", "422-echo", "422-clipped", "500", "502", "503-json-escaped"],
)
async def test_echoed_token_never_reaches_the_message(
    response: httpx.Response, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    error = await fetch_error(response)
    assert TOKEN not in error.message
    assert TOKEN[:12] not in error.message
    assert TOKEN not in repr(error)
    for record in caplog.records:
        assert TOKEN not in record.getMessage()


async def test_no_token_in_any_log_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with respx.mock(base_url=HOST) as mock:
        mock.get(QUEUE_PATH).mock(
            side_effect=[
                httpx.Response(200, json=page(row())),
                httpx.Response(401),
                httpx.ConnectError("refused"),
                httpx.Response(429, headers={"Retry-After": "3"}),
            ]
        )
        async with QueueClient(settings()) as client:
            await client.fetch()
            for _ in range(3):
                with pytest.raises(QueueError):
                    await client.fetch()
    assert caplog.records, "the client logs its requests at debug"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /api/ai/queue" in text
    assert TOKEN not in text


def test_settings_repr_hides_the_token() -> None:
    assert TOKEN not in repr(settings())
    assert TOKEN not in str(settings())


@respx.mock
async def test_ids_are_percent_encoded_in_item_paths(respx_mock: respx.Router) -> None:
    route = respx_mock.delete(url__regex=r".*").respond(404, json={"status": "error"})
    async with QueueClient(Settings(host="https://hub.example")) as client:
        await client.cancel("../x?y#z")
    assert route.calls.last.request.url.raw_path == b"/api/ai/queue/..%2Fx%3Fy%23z"
