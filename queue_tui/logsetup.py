"""The debug log (`--log FILE`), and redaction of secrets from anything logged.

The log is opt-in and written to a file only (a dashboard owns the terminal). Every
record passes a `RedactingFilter`: `Bearer <anything>` and every registered secret
(the configured API token is registered as soon as a client is built) become `***`,
in the message, its arguments, tracebacks and stack dumps alike.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

REDACTED = "***"
LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
# Process-wide: logging is process-wide too, and a secret is a secret everywhere.
_SECRETS: set[str] = set()
_handler: logging.Handler | None = None


def add_secret(value: str | None) -> None:
    """Never log `value` (from now on, in every handler with a RedactingFilter)."""
    # Very short values would blank out ordinary words; no real token is that short.
    if value and len(value.strip()) >= 4:
        _SECRETS.add(value.strip())


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` with `Bearer xxx` and every known secret replaced by `***`."""
    known = {s for s in (*_SECRETS, *secrets) if s}
    for secret in sorted(known, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _BEARER.sub(rf"\g<1>{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Formats the record's message early and redacts it (and any traceback)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not cost the record
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def open_private(path: str | os.PathLike[str]) -> int:
    """A descriptor appending to `path`, which is private to the user (0600) whether it
    is created now or already existed with wider permissions: what the app writes (the
    log, recordings) holds prompts and error texts from the hub."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        mode = os.fstat(fd).st_mode
        # Only a regular file: never /dev/null or a fifo the user pointed at.
        if stat.S_ISREG(mode) and stat.S_IMODE(mode) != 0o600:
            os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd


def setup_logging(
    path: str | os.PathLike[str] | None,
    level: int = logging.DEBUG,
    *,
    secrets: Iterable[str | None] = (),
) -> logging.Handler | None:
    """Append a debug log to `path` (0600, see `open_private`); None: no log. Idempotent."""
    global _handler
    for secret in secrets:
        add_secret(secret)
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
        _handler = None
    if path is None:
        return None
    log_path = Path(path).expanduser()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Prompts and error texts from the hub end up in the log: keep it private.
    os.close(open_private(log_path))
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setLevel(level)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter(LOG_FORMAT, DATE_FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    # httpcore's per-request trace is noise next to the client's own request lines.
    logging.getLogger("httpcore").setLevel(max(level, logging.INFO))
    _handler = handler
    logging.getLogger(__name__).debug("logging to %s at %s", log_path, logging.getLevelName(level))
    return handler


__all__ = ["REDACTED", "RedactingFilter", "add_secret", "open_private", "redact", "setup_logging"]
