"""One sanitiser for every string that comes from the hub.

Everything the hub sends (model names, prompts, errors, URLs, repo names) is untrusted:
it is shown as plain text, never parsed as Rich markup, and nothing in it may reach the
terminal as a control or escape sequence. Every widget, the CLI table and `events`
output go through `clean()`; the TUI then wraps the result in `Text`/`Content`.
"""

from __future__ import annotations

import re
from typing import Any

ELLIPSIS = "…"

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings (ended by
# BEL or ST, or running to the end of the text when unterminated), and two-byte escapes.
_ESCAPE_SEQUENCES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]?              # CSI
    | \x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)   # OSC, DCS, SOS, PM, APC (ST or BEL ended)
    | \x9b[0-?]*[ -/]*[@-~]?              # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x1b\\|\x9c|$)  # 8-bit OSC/DCS/SOS/PM/APC
    | \x1b[ -/]*[0-~]?                    # other ESC sequences (and a lone ESC)
    """,
    re.VERBOSE | re.DOTALL,
)
# Remaining C0 controls (but \t and \n, handled below), DEL and C1 controls.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates can make text read differently from its
# bytes ("Trojan Source"); the marks LRM/RLM/ALM are harmless and kept.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Line and paragraph separators render as line breaks in some terminals.
_SEPARATORS = re.compile(r"[\u2028\u2029\x85]")


def clean(value: Any, *, max_len: int | None = None, multiline: bool = False) -> str:
    """Return `value` as text safe to show in a terminal.

    Escape sequences and control characters are removed, bidi controls neutralised, tabs
    become spaces. With `multiline`, newlines are kept (CRLF folded), otherwise each
    line break becomes a space. With `max_len`, the text is cut with an ellipsis.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isprintable() or "\x1b" in text:
        text = text.replace("\r\n", "\n")
        text = _ESCAPE_SEQUENCES.sub("", text)
        text = _SEPARATORS.sub("\n", text)
        text = _BIDI.sub("", text)
        text = text.replace("\t", "    ") if multiline else text.replace("\t", " ")
        if multiline:
            text = _CONTROLS.sub("", text.replace("\r", "\n"))
        else:
            text = _CONTROLS.sub("", text.replace("\r", " ").replace("\n", " "))
        # Surrogates cannot be encoded for the terminal at all.
        text = text.encode("utf-8", "replace").decode("utf-8")
    if max_len is not None and len(text) > max_len:
        text = text[: max(0, max_len - 1)] + ELLIPSIS if max_len > 0 else ""
    return text


def first_line(value: Any, *, max_len: int | None = None) -> str:
    """The first non-empty line of a (multi-line) text, cleaned."""
    for line in clean(value, multiline=True).splitlines():
        if line.strip():
            return clean(line.strip(), max_len=max_len)
    return ""


def error_headline(message: Any, *, max_len: int | None = 160) -> str:
    """The line of an error that says what went wrong, cleaned: for a Python traceback
    its last non-empty line (the exception), otherwise the first non-empty line.

    The one rule for an error shown on one line: `events`, `wait`, `list`'s ERROR
    column, the dashboard's toasts and the stats panel's failure groups."""
    lines = [ln.strip() for ln in clean(message, multiline=True).splitlines() if ln.strip()]
    if not lines:
        return ""
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    return clean(line, max_len=max_len)


def safe_url(value: Any) -> str | None:
    """The URL if it is http(s) and clean enough to link or open, else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text != clean(text) or any(c.isspace() for c in text):
        return None
    if not re.match(r"^https?://[^/\s]", text, re.IGNORECASE):
        return None
    return text
