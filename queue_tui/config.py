"""Connection settings, resolved as: CLI flags > environment > config file > defaults.

The token is held in `Settings.token` with `repr=False` and never formatted into any
message; only its *source* ("--token", "OXEN_API_KEY", "oxen CLI auth_config.toml") is
ever shown to the user.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)

from queue_tui.api.filters import FILTERS, QueueFilters
from queue_tui.sanitize import clean

log = logging.getLogger(__name__)

DEFAULT_HOST = "https://hub.oxen.ai"
DEFAULT_INTERVAL = 2.0
MIN_INTERVAL = 0.5
DEFAULT_TIMEOUT = 10.0
DEFAULT_LINGER = 600.0
#: A vanished row whose outcome sources keep failing becomes "unknown" after this long.
DEFAULT_RESOLVE_LIMIT = 600.0
DEFAULT_MAX_BODY = 50 * 1024 * 1024
DEMO_HOST = "http://demo.queue-tui.invalid"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME")
    return (Path(base) if base else Path.home() / ".config") / "queue-tui"


def config_path() -> Path:
    override = os.environ.get("QUEUE_TUI_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


def oxen_auth_path() -> Path:
    base = os.environ.get("OXEN_CONFIG_DIR")
    return (Path(base) if base else Path.home() / ".config" / "oxen") / "auth_config.toml"


def host_key(url: str) -> str:
    """`https://hub.oxen.ai:8443/x` -> `hub.oxen.ai:8443`, as the oxen CLI stores hosts."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


def is_loopback(url: str) -> bool:
    """The URL's host is this machine: an IP literal in 127.0.0.0/8, `::1` (`[::1]` in
    a URL), or the name `localhost`. Nothing else: not `127.evil.example`, not a
    `.invalid` name (DNS may answer for any name a resolver likes)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv4Address):
        return address in _IPV4_LOOPBACK
    return address == _IPV6_LOOPBACK


_IPV4_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_IPV6_LOOPBACK = ipaddress.IPv6Address("::1")


def read_oxen_token(host_url: str, path: Path | None = None) -> str | None:
    """The token the official `oxen` CLI saved for this host, or None.

    A missing, unreadable or malformed file is "no token", with a debug note.
    """
    path = path or oxen_auth_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.debug("ignoring oxen auth config %s: %s", path, type(exc).__name__)
        return None
    entries = data.get("host_configs")
    if not isinstance(entries, list):
        return None
    wanted = host_key(host_url)
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        host = entry.get("host")
        token = entry.get("auth_token")
        if isinstance(host, str) and host_key(host) == wanted and isinstance(token, str):
            return token.strip() or None
    return None


class SettingsError(Exception):
    """A setting with a wrong value, or a config file that cannot be read: a usage error.
    `message` is one line naming the key, where it came from and what is expected."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        self.message = clean(message, max_len=500)
        super().__init__(self.message)


def load_config_file(path: Path | None = None) -> dict[str, Any]:
    """The config file's tables; {} when there is none. Unreadable or not TOML: a
    `SettingsError` (the user wrote it, so ignoring it would hide the mistake)."""
    path = path or config_path()
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:  # its text ends "(at line L, column C)"
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the config file: {exc.strerror}") from None


@dataclass
class Settings:
    host: str = DEFAULT_HOST
    token: str | None = field(default=None, repr=False)
    token_source: str = "none"
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = 5.0
    filters: QueueFilters = field(default_factory=QueueFilters)
    theme: str | None = None
    allow_insecure: bool = False
    read_only: bool = False
    linger: float = DEFAULT_LINGER
    #: Ring the terminal bell when a generation fails (`--bell`, config `bell`).
    bell: bool = False
    #: A toast for every success too, not only failures (`--notify-success`).
    notify_success: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY
    demo: bool = False
    #: Append every exchange to this JSON-lines file (`--record`).
    record: str | None = None
    #: Answer from this recording instead of a hub (`--replay`), paced at `replay_speed`.
    replay: str | None = None
    replay_speed: float = 1.0
    #: Seconds a vanished row may stay unresolved while its sources fail (`resolve_limit`).
    resolve_limit: float = DEFAULT_RESOLVE_LIMIT
    #: One-line notes about the configuration that are not errors (an unknown config
    #: key...): the dashboard shows them at start, headless commands on stderr.
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.host = self.host.rstrip("/")
        self.interval = max(MIN_INTERVAL, float(self.interval))

    @property
    def display_host(self) -> str:
        """The host as shown to the user: never credentials in the URL."""
        if self.replay:
            return f"replay of {Path(self.replay).name}"
        if self.demo:
            return "demo hub"
        parts = urlsplit(self.host)
        netloc = parts.hostname or self.host
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        return f"{parts.scheme}://{netloc}" if parts.scheme else netloc

    @property
    def token_is_insecure(self) -> bool:
        """A token over plain http to a non-loopback host (refused unless allowed).

        The demo hub and a replay answer in-process (DEMO_HOST is never dialled)."""
        return bool(
            self.token
            and not self.demo
            and not self.replay
            and urlsplit(self.host).scheme == "http"
            and not is_loopback(self.host)
            and not self.allow_insecure
        )

    @property
    def token_help(self) -> str:
        return (
            "set one with --token, the OXEN_API_KEY environment variable, "
            "or `oxen config --auth HOST TOKEN`"
        )


# -- typed settings: flags > environment > config file > defaults ---------------------------

#: Where a value came from; each source spells booleans and numbers its own way.
FLAG, ENV, FILE = "flag", "environment", "config file"

_BOOLEAN_WORDS = {
    **dict.fromkeys(("1", "true", "yes", "on"), True),
    **dict.fromkeys(("0", "false", "no", "off"), False),
}
#: The config file's `[filters]` table, from the filter declarations: a string per
#: filter, one of its choices where it has them (the flags use click.Choice).
FilterValues: type[BaseModel] = create_model(
    "FilterValues",
    __config__=ConfigDict(extra="forbid", strict=True),
    **{
        spec.name: ((Literal[spec.choices] if spec.choices else str) | None, None)
        for spec in FILTERS
    },
)


def _source(info: ValidationInfo) -> str:
    return (info.context or {}).get("source", FLAG)


class SettingValues(BaseModel):
    """The settings one source gives (flags, the environment or the config file), typed
    and checked; what the source does not set stays None. The source, in the validation
    context, decides how a boolean or a number may be written."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    host: str | None = None
    interval: Annotated[float, Field(ge=MIN_INTERVAL)] | None = None
    timeout: Annotated[float, Field(gt=0)] | None = None
    linger: Annotated[float, Field(ge=0)] | None = None
    resolve_limit: Annotated[float, Field(gt=0)] | None = None
    theme: str | None = None
    allow_insecure: bool | None = None
    read_only: bool | None = None
    bell: bool | None = None
    notify_success: bool | None = None
    filters: FilterValues | None = None  # type: ignore[valid-type]

    @field_validator("interval", "timeout", "linger", "resolve_limit", mode="before")
    @classmethod
    def _number(cls, value: Any, info: ValidationInfo) -> Any:
        # The file has TOML numbers (not "3", not true); flags and variables have text.
        from_file = _source(info) == FILE
        if isinstance(value, bool) or (from_file and not isinstance(value, int | float)):
            raise ValueError("not a number")
        return value

    @field_validator("allow_insecure", "read_only", "bell", "notify_success", mode="before")
    @classmethod
    def _boolean(cls, value: Any, info: ValidationInfo) -> Any:
        # Only a real TOML boolean in the file: `"false"` is a string, and truthy.
        if isinstance(value, bool):
            return value
        if _source(info) != FILE and isinstance(value, str):
            word = _BOOLEAN_WORDS.get(value.strip().lower())
            if word is not None:
                return word
        raise ValueError("not a boolean")

    @field_validator("host")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else normalized_host(value)


#: The environment variable of each setting: QUEUE_TUI_<KEY>.
ENV_VARS = {
    key: f"QUEUE_TUI_{key.upper()}" for key in SettingValues.model_fields if key != "filters"
}

_EXPECTED = {
    "host": "an http:// or https:// URL, e.g. https://hub.oxen.ai",
    "interval": f"a number of seconds >= {MIN_INTERVAL:g}",
    "timeout": "a number of seconds > 0",
    "linger": "a number of seconds >= 0 (0 = off)",
    "resolve_limit": "a number of seconds > 0",
    "theme": "a theme name (a string)",
    "filters": "a table of filters ([filters])",
    **{
        f"filters.{spec.name}": "one of " + ", ".join(spec.choices)
        for spec in FILTERS
        if spec.choices
    },
}
_NUMBERS = {"interval", "timeout", "linger", "resolve_limit"}
_BOOLEANS = {"allow_insecure", "read_only", "bell", "notify_success"}
_EXPECTED_BOOLEAN = {ENV: "one of 1/0, true/false, yes/no, on/off"}


def normalized_host(value: str) -> str:
    """`hub.example.com/` -> `https://hub.example.com`; ValueError("got ...") for anything
    but an http(s) URL with a host name (the message never repeats the URL: it may hold
    credentials)."""
    url = value.strip()
    if "://" not in url:
        url = f"https://{url}"
    try:
        parts = urlsplit(url)
        hostname, _port = parts.hostname, parts.port
    except ValueError:
        raise ValueError("got a malformed URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"got the scheme {clean(parts.scheme, max_len=20)!r}")
    if not hostname:
        raise ValueError("got no host name")
    return url.rstrip("/")


def _where(source: str, key: str, path: Path | None) -> str:
    if source == FLAG:
        return "--" + key.replace("_", "-")
    if source == ENV:
        return ENV_VARS.get(key, key)
    return f"{path}: {key}"


def _shown(source: str, value: Any) -> str:
    if source == FILE:  # as TOML writes it: "fast", [1], true
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return clean(text, max_len=80)


def _settings_error(error: Any, source: str, path: Path | None) -> SettingsError:
    key = ".".join(str(part) for part in error["loc"][:2])
    value = error.get("input")
    if key in _BOOLEANS:
        expected = _EXPECTED_BOOLEAN.get(source, "true or false")
    else:
        expected = _EXPECTED.get(key, "a string")
    if source == FILE and isinstance(value, str) and key in _NUMBERS | _BOOLEANS:
        kind = "number" if key in _NUMBERS else "boolean"
        expected += f" (a TOML {kind}, not a string)"
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ValueError) and str(cause).startswith("got "):
        detail = str(cause)
    else:
        detail = f"got {_shown(source, value)}"
    return SettingsError(f"{_where(source, key, path)}: expected {expected}, {detail}")


def _checked(source: str, values: dict[str, Any], path: Path | None = None) -> SettingValues:
    try:
        return SettingValues.model_validate(values, context={"source": source})
    except ValidationError as exc:
        raise _settings_error(exc.errors()[0], source, path) from None


def check_flag(key: str, value: Any) -> Any:
    """The value of the flag for setting `key`, checked as that setting is (for
    `--timeout` where it means a deadline). Raises SettingsError."""
    return getattr(_checked(FLAG, {key: value}), key)


def _unknown_key(path: Path, key: str, known: Any, prefix: str = "") -> str:
    note = f"{path}: unknown key {clean(prefix + key, max_len=60)!r} (ignored)"
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.75)
    if close:
        note += f", did you mean {prefix + close[0]!r}?"
    return clean(note, max_len=500)


def _known_keys(conf: dict[str, Any], path: Path, warnings: list[str]) -> dict[str, Any]:
    """The config file's keys this version knows; a note in `warnings` for each other
    one (a typo, or a key from a newer version, is not worth refusing to start)."""
    known: dict[str, Any] = {}
    for key, value in conf.items():
        if key not in SettingValues.model_fields:
            warnings.append(_unknown_key(path, key, SettingValues.model_fields))
        elif key == "filters" and isinstance(value, dict):
            names = FilterValues.model_fields
            for name in value:
                if name not in names:
                    warnings.append(_unknown_key(path, name, names, prefix="filters."))
            known[key] = {name: v for name, v in value.items() if name in names}
        else:
            known[key] = value
    return known


def resolve_settings(
    *,
    host: str | None = None,
    token: str | None = None,
    interval: float | str | None = None,
    timeout: float | str | None = None,
    filters: dict[str, str | None] | None = None,
    theme: str | None = None,
    allow_insecure: bool = False,
    read_only: bool | None = None,
    linger: float | str | None = None,
    bell: bool | None = None,
    notify_success: bool | None = None,
    resolve_limit: float | str | None = None,
    demo: bool = False,
    config_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """The settings from flags (these arguments; None = not given), the environment and
    the config file, each source checked in full. A wrong value or an unreadable config
    file raises `SettingsError`; unknown config keys become `Settings.warnings`."""
    env = dict(os.environ) if env is None else env
    path = config_file or config_path()
    conf = load_config_file(path)
    warnings: list[str] = []
    flags = {
        "host": host,
        "interval": interval,
        "timeout": timeout,
        "theme": theme,
        "allow_insecure": allow_insecure or None,
        "read_only": read_only,
        "linger": linger,
        "bell": bell,
        "notify_success": notify_success,
        "resolve_limit": resolve_limit,
    }
    given = (
        _checked(FLAG, {k: v for k, v in flags.items() if v is not None}),
        _checked(ENV, {k: env[name] for k, name in ENV_VARS.items() if env.get(name)}),
        _checked(FILE, _known_keys(conf, path, warnings), path),
    )

    def pick(key: str, default: Any) -> Any:
        for values in given:
            if (value := getattr(values, key)) is not None:
                return value
        return default

    resolved_host = DEMO_HOST if demo else pick("host", DEFAULT_HOST)

    token_value: str | None = None
    source = "none"
    if demo:
        source = "none (demo hub)"
    elif token:
        token_value, source = token, "--token"
    elif env.get("OXEN_API_KEY"):
        token_value, source = env["OXEN_API_KEY"], "OXEN_API_KEY"
    else:
        auth_path = (
            oxen_auth_path()
            if "OXEN_CONFIG_DIR" not in env
            else (Path(env["OXEN_CONFIG_DIR"]) / "auth_config.toml")
        )
        found = read_oxen_token(resolved_host, auth_path)
        if found:
            token_value, source = found, f"oxen CLI config ({auth_path})"

    file_filters = given[-1].filters
    merged_filters: dict[str, Any] = (
        file_filters.model_dump(exclude_none=True) if file_filters is not None else {}
    )
    for key, value in (filters or {}).items():
        if value is not None and key in FilterValues.model_fields:
            merged_filters[key] = value

    return Settings(
        host=resolved_host,
        token=token_value,
        token_source=source,
        interval=pick("interval", DEFAULT_INTERVAL),
        timeout=pick("timeout", DEFAULT_TIMEOUT),
        filters=QueueFilters(**merged_filters),
        theme=pick("theme", None),
        allow_insecure=pick("allow_insecure", False),
        read_only=pick("read_only", False),
        linger=pick("linger", DEFAULT_LINGER),
        bell=pick("bell", False),
        notify_success=pick("notify_success", False),
        demo=demo,
        resolve_limit=pick("resolve_limit", DEFAULT_RESOLVE_LIMIT),
        warnings=warnings,
    )


def replay_interval(interval: float, speed: float) -> float:
    """The wall-clock poll interval that replays a session polled every `interval`
    seconds at `speed`: `interval / speed` (so every recorded poll is seen), never
    below the live minimum (`MIN_INTERVAL`; a faster replay then skips some).
    Speed 0 (as fast as asked) keeps `interval`."""
    if speed <= 0:
        return interval
    return max(min(MIN_INTERVAL, interval), interval / speed)
