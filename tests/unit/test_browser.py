"""`o` asks `no_browser_reason` first: over ssh, with no display, with no browser or only a
text one (which would draw over the dashboard), it copies the URL and says why."""

from __future__ import annotations

import webbrowser

import pytest

from queue_tui.tui.browser import no_browser_reason

SSH_VARIABLES = ("SSH_CONNECTION", "SSH_TTY", "SSH_CLIENT")


def firefox() -> webbrowser.BaseBrowser:
    return webbrowser.BackgroundBrowser("firefox")


@pytest.fixture
def desktop(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A local Linux desktop session: a display, no ssh."""
    for name in SSH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    return monkeypatch


def test_a_desktop_with_a_browser_can_open_one(desktop: pytest.MonkeyPatch) -> None:
    assert no_browser_reason(platform="linux", get=firefox) is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22"),
        ("SSH_TTY", "/dev/pts/3"),
        ("SSH_CLIENT", "192.0.2.1 50000 22"),
    ],
)
def test_an_ssh_session_has_no_browser_in_front_of_the_user(
    desktop: pytest.MonkeyPatch, name: str, value: str
) -> None:
    desktop.setenv(name, value)  # even with a (forwarded) display
    assert no_browser_reason(platform="linux", get=firefox) == "ssh session"


def test_linux_without_a_display_has_no_browser(desktop: pytest.MonkeyPatch) -> None:
    desktop.delenv("DISPLAY")
    assert no_browser_reason(platform="linux", get=firefox) == "no display"
    desktop.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert no_browser_reason(platform="linux", get=firefox) is None


def test_macos_and_windows_need_no_display_variable(desktop: pytest.MonkeyPatch) -> None:
    desktop.delenv("DISPLAY")
    assert no_browser_reason(platform="darwin", get=firefox) is None
    assert no_browser_reason(platform="win32", get=firefox) is None


def test_no_browser_found(desktop: pytest.MonkeyPatch) -> None:
    def none() -> webbrowser.BaseBrowser:
        raise webbrowser.Error("could not locate runnable browser")

    assert no_browser_reason(platform="linux", get=none) == "no browser found"
    desktop.setattr("webbrowser.get", none)  # the default asks webbrowser.get
    assert no_browser_reason(platform="linux") == "no browser found"


@pytest.mark.parametrize(
    "browser",
    [
        webbrowser.GenericBrowser("lynx"),
        webbrowser.GenericBrowser(["/usr/bin/w3m", "%s"]),
        webbrowser.GenericBrowser("www-browser"),
        webbrowser.GenericBrowser("elinks -remote"),  # as BROWSER sets it
    ],
)
def test_a_text_browser_would_draw_over_the_dashboard(
    desktop: pytest.MonkeyPatch, browser: webbrowser.BaseBrowser
) -> None:
    reason = no_browser_reason(platform="linux", get=lambda: browser)
    assert reason is not None and reason.startswith("only a text browser: ")
    assert reason.rsplit(": ", 1)[1] in {"lynx", "w3m", "www-browser", "elinks"}


def test_the_environment_is_read_when_asked(desktop: pytest.MonkeyPatch) -> None:
    assert no_browser_reason(platform="linux", get=firefox) is None
    desktop.setenv("SSH_TTY", "/dev/pts/0")
    assert no_browser_reason(platform="linux", get=firefox) == "ssh session"
    assert no_browser_reason({"DISPLAY": ":1"}, platform="linux", get=firefox) is None
