"""The API token never leaves the process: not in the debug log, a recording, any error
message, `--help`, `list`'s stderr, or a repr."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner

from queue_tui import cli
from queue_tui.api.client import QUEUE_PATH, QueueClient
from queue_tui.api.errors import QueueError
from queue_tui.api.recording import RecordingTransport
from queue_tui.config import Settings, resolve_settings
from queue_tui.core.poller import Poller
from queue_tui.demo.server import DemoServer
from queue_tui.logsetup import REDACTED, RedactingFilter, add_secret, redact, setup_logging

MARKER = "tok_MARKER_5ecr3t"
HOST = "https://hub.test"


def no_marker(text: str) -> None:
    assert MARKER not in text
    assert MARKER[:10] not in text, "not even a prefix"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("QUEUE_TUI_HOST", raising=False)
    monkeypatch.setenv("OXEN_API_KEY", MARKER)
    oxen = tmp_path / "oxen"
    oxen.mkdir()
    (oxen / "auth_config.toml").write_text(
        f'[[host_configs]]\nhost = "hub.oxen.ai"\nauth_token = "{MARKER}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("OXEN_CONFIG_DIR", str(oxen))
    monkeypatch.setenv("QUEUE_TUI_CONFIG", str(tmp_path / "config.toml"))


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "debug.log"
    setup_logging(path, secrets=[MARKER])
    try:
        yield path
    finally:
        setup_logging(None)


def settings(**kw: Any) -> Settings:
    return Settings(**{"host": HOST, "token": MARKER, "token_source": "--token", **kw})


ECHOES = [
    httpx.Response(401, text=f"bad key {MARKER}"),
    httpx.Response(403, json={"error": {"title": f"Bearer {MARKER} lacks scope"}}),
    httpx.Response(404, text=MARKER),
    httpx.Response(422, json={"error": {"title": f"headers: {{'authorization': '{MARKER}'}}"}}),
    httpx.Response(429, headers={"Retry-After": "3"}, text=MARKER),
    httpx.Response(500, text=f"Traceback ... token={MARKER}"),
    httpx.Response(502, json={"message": f"x{MARKER}y"}),
    httpx.Response(503, text='{"error": "' + MARKER.replace("_", "\\u005f") + '"}'),
    httpx.Response(200, text=f"not json {MARKER}"),
    httpx.Response(200, json={"generations": MARKER}),
]


async def fetch_errors() -> list[QueueError]:
    errors: list[QueueError] = []
    with respx.mock(base_url=HOST) as mock:
        mock.get(QUEUE_PATH).mock(side_effect=ECHOES)
        async with QueueClient(settings()) as client:
            for _ in ECHOES:
                with pytest.raises(QueueError) as info:
                    await client.fetch()
                errors.append(info.value)
    return errors


# -- error messages --------------------------------------------------------------------------


async def test_no_error_message_of_any_kind_holds_the_token() -> None:
    errors = await fetch_errors()
    assert len({e.kind for e in errors}) >= 5
    for error in errors:
        no_marker(error.message)
        no_marker(str(error))
        no_marker(repr(error))


async def test_insecure_refusal_does_not_show_the_token() -> None:
    async with QueueClient(settings(host="http://hub.example.com")) as client:
        with pytest.raises(QueueError) as info:
            await client.fetch()
    no_marker(info.value.message)


async def test_poll_failures_do_not_show_the_token() -> None:
    with respx.mock(base_url=HOST) as mock:
        mock.get(QUEUE_PATH).respond(401, text=MARKER)
        async with QueueClient(settings()) as client:
            outcome = await Poller(client).poll_once()
    no_marker(repr(outcome))


# -- the debug log ------------------------------------------------------------------------------


async def test_log_file_never_holds_the_token(log_file: Path) -> None:
    log = logging.getLogger("queue_tui.test")
    log.debug("raw %s", MARKER)
    log.info("header Authorization: Bearer some-other-key-123")
    try:
        raise RuntimeError(f"boom with {MARKER}")
    except RuntimeError:
        log.exception("failed: %s", MARKER)
    log.warning("stack", stack_info=True)
    await fetch_errors()
    with DemoServer() as server:  # loopback http: the token is really sent
        async with QueueClient(settings(host=server.url)) as client:
            await client.fetch()
    text = log_file.read_text(encoding="utf-8")
    no_marker(text)
    assert "some-other-key-123" not in text
    assert f"raw {REDACTED}" in text and f"Bearer {REDACTED}" in text
    assert "RuntimeError: boom with ***" in text
    assert "GET /api/ai/queue" in text  # the client's request lines are there
    assert (log_file.stat().st_mode & 0o777) == 0o600


def test_cli_log_option(tmp_path: Path) -> None:
    path = tmp_path / "cli.log"
    try:
        with DemoServer() as server:
            result = CliRunner().invoke(
                cli.main, ["list", "--host", server.url, "--token", MARKER, "--log", str(path)]
            )
    finally:
        setup_logging(None)
    assert result.exit_code == 0, result.output
    text = path.read_text(encoding="utf-8")
    assert "GET /api/ai/queue" in text
    no_marker(text)


def test_redact() -> None:
    add_secret("sk-registered-secret")
    assert redact("a sk-registered-secret b") == f"a {REDACTED} b"
    assert redact("BEARER abc.def-ghi", ["zzz"]) == f"BEARER {REDACTED}"
    assert redact("authorization: bearer x1, next") == f"authorization: bearer {REDACTED}, next"
    assert redact("long-secret-1 long-secret", ["long-secret", "long-secret-1"]) == (
        f"{REDACTED} {REDACTED}"
    )
    add_secret("ab")  # too short to redact without blanking ordinary words
    assert redact("tab table") == "tab table"


def test_redacting_filter_survives_a_bad_format_string() -> None:
    add_secret(MARKER)  # as building a client does; the test must not rely on an earlier one
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d %s", ("nan", MARKER), None)
    assert RedactingFilter().filter(record)
    no_marker(record.getMessage())


# -- recordings -----------------------------------------------------------------------------------


class SeenAuthorization:
    """ASGI middleware noting the Authorization header, to prove the token was sent."""

    seen: list[str] = []

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                self.seen.append(value.decode())
        await self.app(scope, receive, send)


async def test_recording_never_holds_the_token(tmp_path: Path) -> None:
    from starlette.middleware import Middleware

    path = tmp_path / "rec.jsonl"
    SeenAuthorization.seen.clear()
    with DemoServer(middleware=[Middleware(SeenAuthorization)]) as server:
        transport = RecordingTransport(httpx.AsyncHTTPTransport(), path)
        async with QueueClient(settings(host=server.url), transport=transport) as client:
            await client.fetch()
            await client.get("no-such-id")
    assert SeenAuthorization.seen == [f"Bearer {MARKER}"] * 2
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 2
    no_marker(text)
    assert "authorization" not in text.lower()
    assert all(
        set(json.loads(line)["headers"]) <= {"content-type", "content-length", "retry-after"}
        for line in text.splitlines()
    )


# -- the command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--token", MARKER, "--help"],
        ["list", "--token", MARKER, "--help"],
        ["demo-server", "--help"],
        ["--version"],
    ],
)
def test_help_never_shows_the_token(args: list[str]) -> None:
    # The token is also in $OXEN_API_KEY and the oxen CLI's file (see isolated_env).
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 0
    no_marker(result.output)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, text=MARKER),
        httpx.Response(403, text=MARKER),
        httpx.Response(500, text=f"echo Bearer {MARKER}"),
        httpx.Response(422, json={"error": {"title": MARKER}}),
        httpx.ConnectError(f"proxy http://user:{MARKER}@proxy failed"),
    ],
    ids=["401", "403", "500", "422", "connect"],
)
@pytest.mark.parametrize("token_args", [["--token", MARKER], []], ids=["flag", "env"])
def test_list_stderr_never_shows_the_token(response: Any, token_args: list[str]) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{HOST}{QUEUE_PATH}")
        if isinstance(response, Exception):
            route.side_effect = response
        else:
            route.return_value = response
        result = CliRunner().invoke(cli.main, ["list", "--host", HOST, *token_args])
    assert route.calls.last.request.headers["authorization"] == f"Bearer {MARKER}"
    assert result.exit_code != 0
    no_marker(result.stderr)
    no_marker(result.stdout)


def test_list_refusing_plain_http_does_not_show_the_token() -> None:
    result = CliRunner().invoke(cli.main, ["list", "--host", "http://hub.example.com"])
    assert result.exit_code == 2
    no_marker(result.output)


def test_settings_repr_never_shows_the_token() -> None:
    for s in (settings(), resolve_settings(token=MARKER), resolve_settings()):
        assert s.token == MARKER
        no_marker(repr(s))
        no_marker(str(s))
        no_marker(s.display_host)
        no_marker(s.token_source)
