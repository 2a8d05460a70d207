"""The sanitiser: nothing from the hub reaches the terminal as a control or escape."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_tui.sanitize import ELLIPSIS, clean, error_headline, first_line, safe_url

# Every C0 and C1 control, DEL, and the bidi embeddings/overrides/isolates.
FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

FRAGMENTS = [
    "\x1b",
    "\x1b[",
    "\x1b]",
    "\x1bP",
    "\x1b\\",
    "\x1b_",
    "\x1b^",
    "\x1bX",
    "\x07",
    "\x9b",
    "\x9c",
    "\x9d",
    "\x90",
    "0;",
    "52;c;",
    "31m",
    "2J",
    "[",
    "]",
    ";",
    "m",
    "?1049h",
    "\r",
    "\n",
    "\t",
    "\u202e",
    "\u2066",
    "\u2028",
    "\x85",
    "\x00",
    "[bold red]",
    "[/]",
    "x",
    "é",
    "漢",
    "\ud800",
]

any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=200)
fragment_text = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
texts = st.one_of(st.text(), any_text, fragment_text)


def assert_terminal_safe(out: str, *, multiline: bool) -> None:
    bad = FORBIDDEN.findall(out.replace("\n", "") if multiline else out)
    assert not bad, (out, bad)
    if not multiline:
        assert "\n" not in out
    assert "\x1b" not in out
    # Nothing unencodable (lone surrogates) reaches the terminal writer.
    out.encode("utf-8")


@given(texts)
def test_clean_single_line_output_is_terminal_safe(text: str) -> None:
    assert_terminal_safe(clean(text), multiline=False)


@given(texts)
def test_clean_multiline_keeps_only_newlines(text: str) -> None:
    assert_terminal_safe(clean(text, multiline=True), multiline=True)


@given(texts, st.integers(min_value=0, max_value=50))
def test_clean_respects_max_len(text: str, max_len: int) -> None:
    out = clean(text, max_len=max_len)
    assert len(out) <= max_len
    assert_terminal_safe(out, multiline=False)


@given(st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=100))
def test_clean_leaves_ordinary_text_alone(text: str) -> None:
    assert clean(text) == text


@given(texts)
def test_clean_is_idempotent(text: str) -> None:
    once = clean(text, multiline=True)
    assert clean(once, multiline=True) == once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("[bold red]x[/]", "[bold red]x[/]", id="rich-markup-kept-literally"),
        pytest.param("[@click=app.quit]quit[/]", "[@click=app.quit]quit[/]", id="click-action"),
        pytest.param("\x1b[31mred\x1b[0m plain", "red plain", id="ansi-colour"),
        pytest.param("\x1b[38;2;255;0;0mrgb\x1b[m", "rgb", id="ansi-truecolour"),
        pytest.param("a\x1b]0;TITLE\x07b", "ab", id="osc-title-bel"),
        pytest.param("a\x1b]0;TITLE\x1b\\b", "ab", id="osc-title-st"),
        pytest.param("a\x1b]52;c;aGVsbG8=\x07b", "ab", id="osc52-clipboard"),
        pytest.param("a\x1b]8;;https://evil.example\x07link\x1b]8;;\x07", "alink", id="osc8"),
        pytest.param("a\x1b]0;never ended", "a", id="osc-unterminated"),
        pytest.param("a\x1bPq#0;2;0;0;0\x1b\\b", "ab", id="dcs-sixel"),
        pytest.param("a\x9b31mb", "ab", id="c1-csi"),
        pytest.param("a\x9d0;TITLE\x9cb", "ab", id="c1-osc"),
        pytest.param("a\x90payload\x9cb", "ab", id="c1-dcs"),
        pytest.param("\u202egnp.exe", "gnp.exe", id="bidi-override"),
        pytest.param("x\u2066y\u2069z", "xyz", id="bidi-isolate"),
        pytest.param("a\x00b\x08c\x7fd", "abcd", id="c0-and-del"),
        pytest.param("line1\nline2\r\nline3", "line1 line2 line3", id="newlines-folded"),
        pytest.param("tab\there", "tab here", id="tab"),
        pytest.param("a\u2028b", "a b", id="line-separator"),
        pytest.param("\x1b[2J\x1b[?1049h\x1b[Hcleared", "cleared", id="screen-clear"),
        pytest.param("\ud800x", "?x", id="lone-surrogate"),
        pytest.param("日本語 ok", "日本語 ok", id="cjk-kept"),
        pytest.param("e\u0301", "e\u0301", id="combining-kept"),
    ],
)
def test_clean_table(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_clean_multiline_keeps_line_breaks() -> None:
    assert clean("a\r\nb\rc\n\x1b[1md", multiline=True) == "a\nb\nc\nd"


def test_clean_handles_100kb_text() -> None:
    big = ("error \x1b[31m" + "x" * 1000 + "\x1b]0;t\x07") * 100
    assert len(big) > 100_000
    out = clean(big, max_len=200)
    assert len(out) == 200
    assert out.endswith(ELLIPSIS)
    assert "\x1b" not in out
    full = clean(big)
    assert "\x1b" not in full and "]0;t" not in full


def test_clean_non_strings_and_none() -> None:
    assert clean(None) == ""
    assert clean(42) == "42"
    assert clean("abc", max_len=0) == ""


def test_first_line_skips_blank_lines_and_cleans() -> None:
    assert first_line("\n  \n\x1b[31mboom\x1b[0m: oom\nsecond") == "boom: oom"
    assert first_line("   ") == ""


TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/worker/runner.py", line 214, in run\n'
    "    output = pipeline(**params)\n"
    "\x1b[31mRuntimeError: CUDA error: device-side assert triggered\x1b[0m\n"
    "\n"
)


@pytest.mark.parametrize(
    ("message", "headline"),
    [
        # A traceback: its last non-empty line (the exception), cleaned.
        (TRACEBACK, "RuntimeError: CUDA error: device-side assert triggered"),
        ("\n\n" + TRACEBACK, "RuntimeError: CUDA error: device-side assert triggered"),
        # Anything else: its first non-empty line.
        ("\n  Content policy violation\nsee the docs\n", "Content policy violation"),
        ("Worker lost\nTraceback (most recent call last):\nValueError: x", "Worker lost"),
        ("   \n", ""),
        (None, ""),
    ],
)
def test_error_headline_is_a_tracebacks_last_line_else_the_first(
    message: str | None, headline: str
) -> None:
    assert error_headline(message) == headline
    assert error_headline(message, max_len=12) == clean(headline, max_len=12)


@pytest.mark.parametrize(
    "url",
    [
        "https://hub.oxen.ai/ox/repo/file/main/out.png",
        "http://127.0.0.1:8787/x",
        "HTTPS://HUB.OXEN.AI/a",
    ],
)
def test_safe_url_accepts_http_urls(url: str) -> None:
    assert safe_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "https://exa mple.com/x",
        "https://example.com/x\x1b]52;c;AAAA\x07",
        "https://example.com/\x00",
        "https://example.com/\u202egnp",
        "https://example.com/a\nb",
        "https:///nohost",
        "//example.com/x",
        "",
        None,
        42,
    ],
)
def test_safe_url_rejects(url: object) -> None:
    assert safe_url(url) is None


def test_forbidden_pattern_covers_every_control_category() -> None:
    # Guard for the guard: every Cc character except \n is in FORBIDDEN.
    controls = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Cc"]
    assert all(FORBIDDEN.match(c) for c in controls if c != "\n")
