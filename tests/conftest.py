"""Settings and fixtures for the whole suite."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Speed is measured in benchmarks/, never asserted in tests. Hypothesis has two timing
# checks of its own (a per-example deadline, and "input generation is slow" when a
# strategy takes over a second to produce examples) that fail on a busy machine: CI saw
# the second on test_generated_pages_keep_good_rows_and_count_bad_ones. Both are off;
# every test keeps its example counts.
settings.register_profile("queue-tui", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("queue-tui")


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No token, host or setting from the machine running the tests: every QUEUE_TUI_*
    variable and OXEN_API_KEY unset, the config file and the oxen CLI's in `tmp_path`."""
    for name in list(os.environ):
        if name.startswith("QUEUE_TUI_") or name == "OXEN_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("OXEN_CONFIG_DIR", str(tmp_path / "oxen"))
    monkeypatch.setenv("QUEUE_TUI_CONFIG", str(tmp_path / "config.toml"))
    return tmp_path


@pytest.fixture(autouse=True)
def isolated_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test's remembered preferences (`queue_tui.state`) in its own `tmp_path`:
    no test reads or writes the real `~/.local/state/queue-tui/state.json`."""
    state_home = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    return state_home / "queue-tui" / "state.json"
