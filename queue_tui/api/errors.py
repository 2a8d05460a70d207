"""Typed client errors, each with a one-line human message.

No message ever contains the token: errors are built from status codes, host names and
short, sanitised excerpts of bodies, never from request headers.
"""

from __future__ import annotations

from queue_tui.sanitize import clean


class QueueError(Exception):
    """Base of every error the client raises. `message` is one human line."""

    kind = "error"
    #: Exit code of the headless commands for this kind of failure.
    exit_code = 1
    #: A passing fault worth retrying with backoff (the hub may answer next time); a
    #: permanent one (wrong credentials, host or request) ends a headless command at once.
    transient = False

    def __init__(self, message: str) -> None:
        self.message = clean(message, max_len=300)
        super().__init__(self.message)


class UnreachableError(QueueError):
    kind = "unreachable"
    exit_code = 3
    transient = True


class RequestTimeoutError(QueueError):
    kind = "timeout"
    exit_code = 3
    transient = True


class AuthError(QueueError):
    kind = "auth"
    exit_code = 4

    def __init__(self, message: str, *, status_code: int, token_source: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.token_source = token_source


class RateLimitedError(QueueError):
    kind = "rate_limited"
    exit_code = 5
    transient = True

    def __init__(self, message: str, *, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerError(QueueError):
    kind = "server"
    exit_code = 6
    transient = True

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class NotFoundError(QueueError):
    """The queue endpoint itself answered 404: wrong host or path."""

    kind = "not_found"
    exit_code = 6


class BadPayloadError(QueueError):
    """Not JSON, the wrong shape, or over the size cap."""

    kind = "bad_payload"
    exit_code = 7
    transient = True


class RequestRejectedError(QueueError):
    """A 4xx other than 401/403/404/429 (e.g. 422 for a bad filter value)."""

    kind = "rejected"
    exit_code = 2

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class InsecureTokenError(QueueError):
    kind = "insecure"
    exit_code = 2


class RedirectError(QueueError):
    """The hub answered 3xx. Never followed (the token would go along) and never taken
    for success: the user is told where it points."""

    kind = "redirect"
    exit_code = 9

    def __init__(self, message: str, *, status_code: int, location: str | None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.location = location


class StreamUnavailableError(QueueError):
    """The hub does not offer the event stream (404/405/501, or not SSE): polling alone
    resolves outcomes."""

    kind = "no_stream"
