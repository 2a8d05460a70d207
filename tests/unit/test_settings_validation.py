"""Bad input is a clear error: every setting, from a flag, the environment or the config
file, is typed; a wrong value exits 2 with one `queue-tui:` line naming the key, where it
came from and what is expected. Unknown config keys are warnings, not errors."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest
import respx
from click.testing import CliRunner, Result

from queue_tui import cli
from queue_tui.config import (
    DEFAULT_RESOLVE_LIMIT,
    DEMO_HOST,
    ENV_VARS,
    Settings,
    SettingsError,
    is_loopback,
    resolve_settings,
)

TOKEN = "tok_MARKER_validation_5ecr3t"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The config file every command reads (not written yet); a clean environment."""
    path = tmp_path / "config.toml"
    monkeypatch.setenv("QUEUE_TUI_CONFIG", str(path))
    monkeypatch.setenv("OXEN_CONFIG_DIR", str(tmp_path / "oxen"))
    for name in (*ENV_VARS.values(), "OXEN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli.main, list(args), env=env)


def the_error(result: Result) -> str:
    """The one stderr line of a usage error (exit 2), without a traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("queue-tui: ")
    return lines[0]


# -- the reported cases, end to end ----------------------------------------------------------


def test_interval_from_the_environment_that_is_not_a_number(config: Path) -> None:
    line = the_error(run("--demo", "list", env={"QUEUE_TUI_INTERVAL": "abc"}))
    assert line == ("queue-tui: QUEUE_TUI_INTERVAL: expected a number of seconds >= 0.5, got 'abc'")


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ('interval = "fast"', "interval", "a number of seconds >= 0.5"),
        ("linger = [1]", "linger", "a number of seconds >= 0"),
        ('allow_insecure = "false"', "allow_insecure", "true or false"),
        ("interval = 0.1", "interval", "a number of seconds >= 0.5"),
        ("interval = true", "interval", "a number of seconds >= 0.5"),
        ("interval = nan", "interval", "a number of seconds >= 0.5"),
        ("linger = -1", "linger", "a number of seconds >= 0"),
        ("timeout = 0", "timeout", "a number of seconds > 0"),
        ("resolve_limit = 0", "resolve_limit", "a number of seconds > 0"),
        ("read_only = 1", "read_only", "true or false"),
        ("theme = 3", "theme", "a theme name"),
        ('host = "ftp://x"', "host", "an http:// or https:// URL"),
    ],
)
def test_wrong_value_in_the_config_file(config: Path, toml: str, key: str, expected: str) -> None:
    config.write_text(toml + "\n", encoding="utf-8")
    line = the_error(run("--demo", "list"))
    assert line.startswith(f"queue-tui: {config}: {key}: expected {expected}")


def test_a_string_false_is_not_read_as_true(config: Path) -> None:
    config.write_text('allow_insecure = "false"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        resolve_settings(config_file=config)
    assert info.value.message == (
        f"{config}: allow_insecure: expected true or false (a TOML boolean, not a string), "
        'got "false"'
    )
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    "args",
    [
        ["--demo", "--interval", "-5"],  # the dashboard
        ["--demo", "--interval", "-5", "list"],  # given before a command that ignores it
        ["--demo", "events", "--interval", "-5"],
        ["--demo", "wait", "abc", "--interval", "0.4"],
        ["--demo", "--interval", "nan"],
        ["--demo", "--interval", "abc"],
    ],
)
def test_interval_below_the_minimum_from_a_flag(config: Path, args: list[str]) -> None:
    line = the_error(run(*args))
    assert line.startswith("queue-tui: --interval: expected a number of seconds >= 0.5, got ")


def test_interval_below_the_minimum_from_the_environment(config: Path) -> None:
    line = the_error(run("--demo", "list", env={"QUEUE_TUI_INTERVAL": "0.1"}))
    assert line.startswith("queue-tui: QUEUE_TUI_INTERVAL: expected a number of seconds >= 0.5")


@pytest.mark.parametrize(
    ("args", "flag", "expected"),
    [
        (["--demo", "--linger", "-1"], "--linger", "a number of seconds >= 0"),
        (["--demo", "list", "--timeout", "0"], "--timeout", "a number of seconds > 0"),
        (["--demo", "--timeout", "-1", "list"], "--timeout", "a number of seconds > 0"),
        (["--demo", "events", "--timeout", "0"], "--timeout", "a number of seconds > 0"),
        (["--demo", "wait", "abc", "--timeout", "-3"], "--timeout", "a number of seconds > 0"),
        (["--demo", "--resolve-limit", "0"], "--resolve-limit", "a number of seconds > 0"),
        (["--demo", "events", "--resolve-limit", "-1"], "--resolve-limit", "a number"),
        (["--demo", "wait", "abc", "--resolve-limit", "x"], "--resolve-limit", "a number"),
    ],
)
def test_out_of_range_seconds_from_flags(
    config: Path, args: list[str], flag: str, expected: str
) -> None:
    assert the_error(run(*args)).startswith(f"queue-tui: {flag}: expected {expected}")


def test_linger_zero_is_allowed(config: Path) -> None:
    assert resolve_settings(linger="0", config_file=config).linger == 0


# -- the host ----------------------------------------------------------------------------


def test_unknown_url_scheme_is_a_usage_error_naming_the_flag(config: Path) -> None:
    line = the_error(run("--host", "ftp://x", "list"))
    assert line == (
        "queue-tui: --host: expected an http:// or https:// URL, e.g. https://hub.oxen.ai, "
        "got the scheme 'ftp'"
    )


def test_unknown_url_scheme_names_the_environment_variable(config: Path) -> None:
    line = the_error(run("list", env={"QUEUE_TUI_HOST": "gopher://x"}))
    assert line.startswith("queue-tui: QUEUE_TUI_HOST: expected an http:// or https:// URL")


def test_a_bad_host_is_never_repeated(config: Path) -> None:
    # A URL may carry credentials: the message says what is wrong, not what was given.
    line = the_error(run("--host", f"ftp://user:{TOKEN}@x", "list"))
    assert TOKEN not in line and "got the scheme 'ftp'" in line


@pytest.mark.parametrize(
    ("host", "detail"),
    [("https://", "got no host name"), ("https://x:port", "got a malformed URL")],
)
def test_host_without_a_name_or_with_a_bad_port(config: Path, host: str, detail: str) -> None:
    assert the_error(run("--host", host, "list")).endswith(detail)


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ("hub.example.com", "https://hub.example.com"),
        ("localhost:8787/", "https://localhost:8787"),
        ("HTTP://127.0.0.1:8787", "HTTP://127.0.0.1:8787"),
    ],
)
def test_host_without_a_scheme_still_gets_https(config: Path, given: str, resolved: str) -> None:
    assert resolve_settings(host=given, config_file=config).host == resolved


# -- a malformed config file ----------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--demo"],
        ["--demo", "list"],
        ["--demo", "events", "--until-empty"],
        ["--demo", "wait", "abc"],
        ["--demo", "cancel", "abc"],
    ],
    ids=["dashboard", "list", "events", "wait", "cancel"],
)
def test_malformed_config_file_stops_every_command_before_it_starts(
    config: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_start(*_: Any, **__: Any) -> None:
        raise AssertionError("started despite a malformed config file")

    fake_dashboard(monkeypatch, must_not_start)
    monkeypatch.setattr(cli, "client_and_clock", must_not_start)
    monkeypatch.setattr(cli, "build_client", must_not_start)
    config.write_text('interval = 3\ntheme = "nord\n', encoding="utf-8")
    line = the_error(run(*args))
    assert line.startswith(f"queue-tui: {config}: not valid TOML: ")
    assert "(at line 2, column" in line


def test_config_file_that_is_not_utf8(config: Path) -> None:
    config.write_bytes(b'theme = "\xff"\n')
    assert the_error(run("--demo", "list")) == f"queue-tui: {config}: not UTF-8 text (byte 9)"


def test_config_file_that_is_a_directory(config: Path) -> None:
    config.mkdir()
    line = the_error(run("--demo", "list"))
    assert line.startswith(f"queue-tui: {config}: cannot read the config file: ")


def test_missing_config_file_is_no_config(config: Path) -> None:
    assert run("--demo", "list").exit_code == 0


# -- unknown keys are warnings ----------------------------------------------------------------


def test_unknown_keys_are_one_warning_each_on_stderr(config: Path) -> None:
    config.write_text(
        'intervall = 3\ncolour = "red"\n[filters]\nmodel = "flux-1-dev"\nbogus = "x"\n',
        encoding="utf-8",
    )
    result = run("--demo", "list", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"queue-tui: warning: {config}: unknown key 'intervall' (ignored), "
        "did you mean 'interval'?",
        f"queue-tui: warning: {config}: unknown key 'colour' (ignored)",
        f"queue-tui: warning: {config}: unknown key 'filters.bogus' (ignored)",
    ]
    assert result.stdout.startswith("{")  # stdout holds only the page


def test_unknown_keys_fill_settings_warnings(config: Path) -> None:
    config.write_text("intervall = 3\n[filters]\nstatuss = 'failed'\n", encoding="utf-8")
    s = resolve_settings(config_file=config)
    assert s.warnings == [
        f"{config}: unknown key 'intervall' (ignored), did you mean 'interval'?",
        f"{config}: unknown key 'filters.statuss' (ignored), did you mean 'filters.status'?",
    ]
    assert s.interval == 2 and s.filters.status is None


class _Terminal:
    def isatty(self) -> bool:
        return True


def fake_dashboard(monkeypatch: pytest.MonkeyPatch, run_dashboard: Any) -> None:
    """`queue_tui.tui.app` replaced: these tests need the settings, not Textual."""
    app = types.ModuleType("queue_tui.tui.app")
    app.run_dashboard = run_dashboard  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "queue_tui.tui.app", app)


def run_dashboard_with(args: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Result]:
    seen: list[Settings] = []
    fake_dashboard(monkeypatch, lambda s, **_: seen.append(s))
    terminal = types.SimpleNamespace(stdout=_Terminal(), stdin=_Terminal(), exit=sys.exit)
    monkeypatch.setattr(cli, "sys", terminal)
    result = run(*args)
    assert result.exit_code == 0, result.output
    (settings,) = seen
    return settings, result


def test_the_dashboard_gets_the_warnings_and_prints_none(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text("intervall = 3\n", encoding="utf-8")
    settings, result = run_dashboard_with(["--demo"], monkeypatch)
    assert settings.warnings == [
        f"{config}: unknown key 'intervall' (ignored), did you mean 'interval'?"
    ]
    assert result.stderr == ""


# -- filters in the config file ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[filters]\nstatus = 3", "filters.status", "one of queued, processing, succeeded"),
        ('[filters]\nstatus = "done"', "filters.status", "one of queued, processing"),
        ('[filters]\nmedia_type = "audio"', "filters.media_type", "one of image, video"),
        ("[filters]\nmodel = 3", "filters.model", "a string"),
        ("[filters]\nnamespace = true", "filters.namespace", "a string"),
        ('filters = "model=x"', "filters", "a table of filters"),
    ],
)
def test_bad_filter_in_the_config_file(config: Path, toml: str, key: str, expected: str) -> None:
    config.write_text(toml + "\n", encoding="utf-8")
    line = the_error(run("--demo", "list"))
    assert line.startswith(f"queue-tui: {config}: {key}: expected {expected}")


def test_good_filters_from_the_file_and_flags_over_them(config: Path) -> None:
    config.write_text(
        '[filters]\nstatus = "failed"\nmedia_type = "video"\nsearch = "cat"\n', encoding="utf-8"
    )
    s = resolve_settings(config_file=config, filters={"status": "queued", "model": None})
    assert (s.filters.status, s.filters.media_type, s.filters.search) == ("queued", "video", "cat")


# -- booleans --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        ("On", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("OFF", False),
    ],
)
def test_booleans_from_the_environment(config: Path, word: str, value: bool) -> None:
    s = resolve_settings(config_file=config, env={"QUEUE_TUI_READ_ONLY": word})
    assert s.read_only is value


@pytest.mark.parametrize("word", ["y", "t", "2", "enabled", "nope"])
def test_other_spellings_of_a_boolean_are_refused(config: Path, word: str) -> None:
    line = the_error(run("--demo", "list", env={"QUEUE_TUI_BELL": word}))
    assert line == (
        f"queue-tui: QUEUE_TUI_BELL: expected one of 1/0, true/false, yes/no, on/off, got {word!r}"
    )


def test_toml_booleans_in_the_file(config: Path) -> None:
    config.write_text("allow_insecure = true\nread_only = false\n", encoding="utf-8")
    s = resolve_settings(config_file=config, env={})
    assert s.allow_insecure is True and s.read_only is False


def test_environment_beats_file_and_flag_beats_environment(config: Path) -> None:
    config.write_text("bell = true\ninterval = 5\n", encoding="utf-8")
    env = {"QUEUE_TUI_BELL": "off", "QUEUE_TUI_INTERVAL": "7"}
    s = resolve_settings(config_file=config, env=env)
    assert s.bell is False and s.interval == 7
    s = resolve_settings(config_file=config, env=env, bell=True, interval="3")
    assert s.bell is True and s.interval == 3


# -- resolve_limit ------------------------------------------------------------------------------


def test_resolve_limit_default_file_environment_flag(config: Path) -> None:
    assert resolve_settings(config_file=config, env={}).resolve_limit == DEFAULT_RESOLVE_LIMIT
    config.write_text("resolve_limit = 30\n", encoding="utf-8")
    assert resolve_settings(config_file=config, env={}).resolve_limit == 30
    env = {"QUEUE_TUI_RESOLVE_LIMIT": "40"}
    assert resolve_settings(config_file=config, env=env).resolve_limit == 40
    assert resolve_settings(config_file=config, env=env, resolve_limit="50").resolve_limit == 50


def test_resolve_limit_flag_reaches_the_dashboard(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _ = run_dashboard_with(["--demo", "--resolve-limit", "45"], monkeypatch)
    assert settings.resolve_limit == 45


@pytest.mark.parametrize("command", [["events"], ["wait", "abc"]])
def test_resolve_limit_flag_reaches_events_and_wait(
    config: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    seen: list[Settings] = []

    async def fake_runner(client: Any, settings: Settings, *_: Any, **__: Any) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr("queue_tui.headless.run_events", fake_runner)
    monkeypatch.setattr("queue_tui.headless.run_wait", fake_runner)
    result = run("--demo", *command, "--resolve-limit", "45", "--timeout", "5")
    assert result.exit_code == 0, result.output
    assert seen[0].resolve_limit == 45


@pytest.mark.parametrize("command", [[], ["events"], ["wait"]])
def test_resolve_limit_is_in_the_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli.main, [*command, "--help"])
    assert "--resolve-limit" in result.output
    assert "outcome sources" in result.output.replace("\n", " ")


# -- loopback: a token in clear text only to this machine ----------------------------------------


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8787", True),
        ("http://127.255.255.254", True),
        ("http://[::1]:8787", True),
        ("http://localhost:8787", True),
        ("http://LOCALHOST", True),
        ("http://127.evil.example", False),
        ("http://127.0.0.1.nip.io", False),
        ("http://demo.queue-tui.invalid", False),
        ("http://localhost.evil.example", False),
        ("http://128.0.0.1", False),
        ("http://[::ffff:127.0.0.1]", False),
        ("http://0.0.0.0", False),
        ("http://[::1", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_token_in_clear_text_to_a_127_named_host_is_refused_and_nothing_sent(
    config: Path,
) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        route = mock.route()
        result = run("--host", "http://127.evil.example", "--token", TOKEN, "list")
    assert not route.called and not mock.calls
    line = the_error(result)
    assert line.startswith("queue-tui: refusing to send the API token over plain http")
    assert TOKEN not in result.output


def test_demo_and_replay_never_count_as_insecure(config: Path) -> None:
    assert not Settings(host=DEMO_HOST, demo=True, token=TOKEN).token_is_insecure
    assert not Settings(host=DEMO_HOST, replay="rec.jsonl", token=TOKEN).token_is_insecure
    assert Settings(host=DEMO_HOST, token=TOKEN).token_is_insecure


def test_demo_still_runs_with_a_token_given(config: Path) -> None:
    result = run("--demo", "--token", TOKEN, "list", "--json")
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output
