"""The client loads the certificate store only when it may speak TLS: a plain-http hub
reached without a proxy never does (a start-up cost of 30-50 ms otherwise)."""

from __future__ import annotations

import httpx
import pytest

from queue_tui.api.client import _needs_tls

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARIABLES, "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_plain_http_without_a_proxy_needs_no_certificates() -> None:
    assert _needs_tls("http://127.0.0.1:8790", None) is False
    assert _needs_tls("HTTP://hub.internal", None) is False


def test_https_needs_them() -> None:
    assert _needs_tls("https://hub.oxen.ai", None) is True


@pytest.mark.parametrize("variable", PROXY_VARIABLES)
def test_a_proxy_may_be_reached_over_tls(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "https://proxy.example:3128")
    assert _needs_tls("http://127.0.0.1:8790", None) is True


def test_a_given_transport_is_left_as_it_is() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    assert _needs_tls("http://127.0.0.1:8790", transport) is True
