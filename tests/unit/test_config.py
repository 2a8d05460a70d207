"""Settings: CLI flags > environment > config file > defaults; the oxen CLI's token file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from queue_tui.api.filters import QueueFilters
from queue_tui.cli import main
from queue_tui.config import (
    DEFAULT_HOST,
    DEFAULT_INTERVAL,
    DEFAULT_LINGER,
    DEFAULT_TIMEOUT,
    DEMO_HOST,
    Settings,
    SettingsError,
    config_path,
    host_key,
    read_oxen_token,
    resolve_settings,
)

TOKEN = "tok_MARKER_config_5ecr3t"


@pytest.fixture
def oxen_dir(tmp_path: Path) -> Path:
    path = tmp_path / "oxen"
    path.mkdir()
    return path


@pytest.fixture
def env(oxen_dir: Path) -> dict[str, str]:
    # Never the real machine's oxen token: OXEN_CONFIG_DIR always points at tmp.
    return {"OXEN_CONFIG_DIR": str(oxen_dir)}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


def write_auth(oxen_dir: Path, *entries: tuple[str, str]) -> None:
    lines = ['default_host = "hub.oxen.ai"']
    for host, token in entries:
        lines += ["", "[[host_configs]]", f'host = "{host}"', f'auth_token = "{token}"']
    (oxen_dir / "auth_config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_defaults(env: dict[str, str], config_file: Path) -> None:
    s = resolve_settings(env=env, config_file=config_file)
    assert s.host == DEFAULT_HOST
    assert s.token is None and s.token_source == "none"
    assert s.interval == DEFAULT_INTERVAL
    assert s.timeout == DEFAULT_TIMEOUT
    assert s.linger == DEFAULT_LINGER
    assert s.filters == QueueFilters()
    assert s.theme is None and not s.read_only and not s.allow_insecure and not s.demo


def test_config_file_beats_defaults(env: dict[str, str], config_file: Path) -> None:
    config_file.write_text(
        'host = "https://hub.example.com"\ninterval = 5\ntimeout = 3\ntheme = "nord"\n'
        "read_only = true\nlinger = 30\n"
        '[filters]\nmodel = "flux-dev"\nstatus = "failed"\nbogus = "ignored"\n',
        encoding="utf-8",
    )
    s = resolve_settings(env=env, config_file=config_file)
    assert s.host == "https://hub.example.com"
    assert s.interval == 5 and s.timeout == 3 and s.linger == 30
    assert s.theme == "nord" and s.read_only
    assert s.filters == QueueFilters(model="flux-dev", status="failed")


def test_env_beats_config_file(env: dict[str, str], config_file: Path) -> None:
    config_file.write_text('host = "https://from-file.example"\ninterval = 5\n', encoding="utf-8")
    env.update(QUEUE_TUI_HOST="https://from-env.example", QUEUE_TUI_INTERVAL="7")
    s = resolve_settings(env=env, config_file=config_file)
    assert s.host == "https://from-env.example"
    assert s.interval == 7


def test_cli_beats_env_and_file(env: dict[str, str], config_file: Path) -> None:
    config_file.write_text(
        'host = "https://from-file.example"\ninterval = 5\n[filters]\nmodel = "file-model"\n',
        encoding="utf-8",
    )
    env.update(QUEUE_TUI_HOST="https://from-env.example", QUEUE_TUI_INTERVAL="7")
    s = resolve_settings(
        host="https://from-cli.example",
        interval=3,
        filters={"model": "cli-model", "repo": None},
        env=env,
        config_file=config_file,
    )
    assert s.host == "https://from-cli.example"
    assert s.interval == 3
    assert s.filters.model == "cli-model"


def test_host_without_scheme_gets_https_and_trailing_slash_goes(
    env: dict[str, str], config_file: Path
) -> None:
    s = resolve_settings(host="hub.example.com:8443/", env=env, config_file=config_file)
    assert s.host == "https://hub.example.com:8443"


def test_interval_has_a_floor() -> None:
    assert Settings(interval=0.01).interval == 0.5


def test_malformed_config_file_is_an_error(env: dict[str, str], config_file: Path) -> None:
    config_file.write_text("host = [unclosed\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        resolve_settings(env=env, config_file=config_file)
    assert info.value.message == (
        f"{config_file}: not valid TOML: Invalid value (at line 1, column 9)"
    )


# -- the token -------------------------------------------------------------------------


def test_token_precedence_cli_then_env_then_oxen_file(
    env: dict[str, str], oxen_dir: Path, config_file: Path
) -> None:
    write_auth(oxen_dir, ("hub.oxen.ai", "from-oxen-file"))
    s = resolve_settings(env=env, config_file=config_file)
    assert s.token == "from-oxen-file"
    assert s.token_source.startswith("oxen CLI config (")
    env["OXEN_API_KEY"] = "from-env"
    s = resolve_settings(env=env, config_file=config_file)
    assert (s.token, s.token_source) == ("from-env", "OXEN_API_KEY")
    s = resolve_settings(token="from-cli", env=env, config_file=config_file)
    assert (s.token, s.token_source) == ("from-cli", "--token")


def test_demo_never_uses_a_token(env: dict[str, str], config_file: Path) -> None:
    env["OXEN_API_KEY"] = TOKEN
    s = resolve_settings(demo=True, env=env, config_file=config_file)
    assert s.token is None and s.host == DEMO_HOST
    assert s.display_host == "demo hub"


@pytest.mark.parametrize(
    ("stored_host", "wanted_host", "found"),
    [
        ("hub.oxen.ai", "https://hub.oxen.ai", True),
        ("https://hub.oxen.ai", "https://hub.oxen.ai", True),
        ("hub.oxen.ai", "https://hub.oxen.ai/some/path", True),
        ("localhost:3000", "http://localhost:3000", True),
        ("localhost:3000", "http://localhost:3001", False),
        ("localhost:3000", "http://localhost", False),
        ("hub.oxen.ai", "https://staging.hub.oxen.ai", False),
    ],
)
def test_oxen_file_matches_by_host_and_port(
    oxen_dir: Path, stored_host: str, wanted_host: str, found: bool
) -> None:
    write_auth(oxen_dir, ("other.example", "wrong"), (stored_host, TOKEN))
    token = read_oxen_token(wanted_host, oxen_dir / "auth_config.toml")
    assert token == (TOKEN if found else None)


@pytest.mark.parametrize(
    "content",
    [
        None,  # missing
        "this is [not toml",
        "host_configs = 3",
        '[[host_configs]]\nhost = "hub.oxen.ai"\n',  # no token
        '[[host_configs]]\nhost = "hub.oxen.ai"\nauth_token = 42\n',
        '[[host_configs]]\nhost = "hub.oxen.ai"\nauth_token = "   "\n',
        "host_configs = [1, 2]",
        b"\xff\xfe\x00 binary",
    ],
    ids=["missing", "malformed", "not-a-list", "no-token", "int-token", "blank", "ints", "binary"],
)
def test_bad_oxen_file_means_no_token_and_no_crash(
    env: dict[str, str], oxen_dir: Path, config_file: Path, content: str | bytes | None
) -> None:
    path = oxen_dir / "auth_config.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    s = resolve_settings(env=env, config_file=config_file)
    assert s.token is None and s.token_source == "none"


def test_oxen_file_is_a_directory_is_no_token(oxen_dir: Path) -> None:
    (oxen_dir / "auth_config.toml").mkdir()
    assert read_oxen_token(DEFAULT_HOST, oxen_dir / "auth_config.toml") is None


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://hub.oxen.ai", "hub.oxen.ai"),
        ("https://hub.oxen.ai:8443/x", "hub.oxen.ai:8443"),
        ("localhost:3000", "localhost:3000"),
        ("HTTP://LOCALHOST:3000", "localhost:3000"),
    ],
)
def test_host_key(url: str, key: str) -> None:
    assert host_key(url) == key


# -- the Settings object ------------------------------------------------------------------


def test_repr_and_display_host_hide_secrets() -> None:
    s = Settings(host="https://user:pw@hub.example.com:8443/", token=TOKEN, token_source="--token")
    assert TOKEN not in repr(s)
    assert s.display_host == "https://hub.example.com:8443"
    assert "pw" not in s.display_host


@pytest.mark.parametrize(
    ("host", "allow", "insecure"),
    [
        ("https://hub.example.com", False, False),
        ("http://hub.example.com", False, True),
        ("http://hub.example.com", True, False),
        ("http://127.0.0.1:8787", False, False),
        ("http://localhost:8787", False, False),
        ("http://[::1]:8787", False, False),
        ("http://127.evil.example", False, True),
        ("http://demo.test.invalid", False, True),
        ("http://127.0.0.1.nip.io:8787", False, True),
    ],
)
def test_token_is_insecure(host: str, allow: bool, insecure: bool) -> None:
    s = Settings(host=host, token=TOKEN, allow_insecure=allow)
    assert s.token_is_insecure is insecure
    assert Settings(host=host, token=None).token_is_insecure is False


# -- --help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"]])
def test_help_shows_config_path_and_never_the_token(
    args: list[str], monkeypatch: pytest.MonkeyPatch, oxen_dir: Path
) -> None:
    write_auth(oxen_dir, ("hub.oxen.ai", TOKEN))
    monkeypatch.setenv("OXEN_CONFIG_DIR", str(oxen_dir))
    monkeypatch.setenv("OXEN_API_KEY", TOKEN)
    result = CliRunner().invoke(main, [*args, "--token", TOKEN], catch_exceptions=False)
    assert result.exit_code == 0
    assert TOKEN not in result.output
    if args == ["--help"]:
        assert str(config_path()) in result.output.replace("\n", "")
    assert "--token" in result.output
