"""Connection settings, resolved as: CLI flags > environment > config file > defaults.

The token is held in `Settings.token` with `repr=False` and never formatted into any
message; only its *source* ("--token", "OXEN_API_KEY", "oxen CLI auth_config.toml") is
ever shown to the user.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from queue_tui.core.filters import QueueFilters

log = logging.getLogger(__name__)

DEFAULT_HOST = "https://hub.oxen.ai"
DEFAULT_INTERVAL = 2.0
MIN_INTERVAL = 0.5
DEFAULT_TIMEOUT = 10.0
DEFAULT_LINGER = 600.0
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
    host = urlsplit(url).hostname or ""
    return host in {"localhost", "::1"} or host.startswith("127.") or host.endswith(".invalid")


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


def load_config_file(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("ignoring config file %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


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
        """A token over plain http to a non-loopback host (refused unless allowed)."""
        return bool(
            self.token
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


def resolve_settings(
    *,
    host: str | None = None,
    token: str | None = None,
    interval: float | None = None,
    timeout: float | None = None,
    filters: dict[str, str | None] | None = None,
    theme: str | None = None,
    allow_insecure: bool = False,
    read_only: bool | None = None,
    linger: float | None = None,
    bell: bool | None = None,
    notify_success: bool | None = None,
    demo: bool = False,
    config_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    env = dict(os.environ) if env is None else env
    conf = load_config_file(config_file)
    conf_filters = conf.get("filters") if isinstance(conf.get("filters"), dict) else {}

    def pick(cli: Any, env_name: str | None, conf_name: str, default: Any) -> Any:
        if cli is not None:
            return cli
        if env_name and env.get(env_name):
            return env[env_name]
        if conf.get(conf_name) is not None:
            return conf[conf_name]
        return default

    resolved_host = DEMO_HOST if demo else str(pick(host, "QUEUE_TUI_HOST", "host", DEFAULT_HOST))
    if "://" not in resolved_host:
        resolved_host = f"https://{resolved_host}"

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

    merged_filters: dict[str, str | None] = {
        k: v for k, v in conf_filters.items() if isinstance(v, str)
    }
    for key, value in (filters or {}).items():
        if value is not None:
            merged_filters[key] = value

    return Settings(
        host=resolved_host,
        token=token_value,
        token_source=source,
        interval=float(pick(interval, "QUEUE_TUI_INTERVAL", "interval", DEFAULT_INTERVAL)),
        timeout=float(pick(timeout, None, "timeout", DEFAULT_TIMEOUT)),
        filters=QueueFilters(**{k: v for k, v in merged_filters.items() if k in _FILTER_NAMES}),
        theme=pick(theme, None, "theme", None),
        allow_insecure=allow_insecure or bool(conf.get("allow_insecure", False)),
        read_only=bool(pick(read_only, None, "read_only", False)),
        linger=float(pick(linger, None, "linger", DEFAULT_LINGER)),
        bell=bool(pick(bell, None, "bell", False)),
        notify_success=bool(pick(notify_success, None, "notify_success", False)),
        demo=demo,
    )


_FILTER_NAMES = {"namespace", "model", "media_type", "status", "repo", "folder", "search"}
