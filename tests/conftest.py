"""Settings and fixtures for the whole suite."""

import asyncio
import itertools
import logging
import os
import time
from collections.abc import Iterator
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

#: Tests that run for seconds each (real processes, long simulated runs), in this order
#: before all others: so the workers (pytest-xdist, `--dist worksteal`: the others take
#: work from the end of a busy one's queue) end together on short tests instead of one
#: waiting for another's last long one. The `wait` audits start the `events` audits (a
#: session fixture: half a minute in the background), checked after the benchmarks.
LONG_FIRST = (
    "tests/integration/test_truth_audit_cli.py::test_wait_",
    "tests/unit/test_benchmarks_smoke.py::test_benchmark_runs_quick_and_reports_targets",
    "tests/integration/test_truth_audit_cli.py::test_events_",
    "tests/unit/test_truth_audit.py",
    "tests/unit/test_long_run_memory.py",
    "tests/unit/test_render_property.py",
    "tests/integration/test_relay_team.py",
    "tests/ui/test_hostile_payloads.py",
)


def _long_first_rank(item: pytest.Item) -> int:
    for rank, prefix in enumerate(LONG_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(LONG_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A stable sort: each file's own order (and its module fixtures' sharing) is kept.
    items.sort(key=_long_first_rank)


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
def restored_log_levels() -> Iterator[None]:
    """`setup_logging` (`--log`) lowers the root logger to DEBUG and `setup_logging(None)`
    leaves it there: every later test in that worker would then build and capture a
    record for every request, and run slower (or, asserting on logs, pass by order)."""
    names = ("", "httpcore")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(autouse=True)
def isolated_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test's remembered preferences (`queue_tui.state`) in its own `tmp_path`:
    no test reads or writes the real `~/.local/state/queue-tui/state.json`."""
    state_home = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    return state_home / "queue-tui" / "state.json"


#: Pilot's idle test (below): the CPU used in one slice that still counts as idle, as a
#: share of the slice (Textual's own), the slice, and the least time it always waits.
IDLE_SHARE = 1 / 20
IDLE_SLICE = 0.005
IDLE_AT_LEAST = 0.008
#: Frames a second of the screens under test (Textual's `TEXTUAL_FPS`, 60 by default):
#: a change is painted within 1/240 s, so the least wait above spans two frames.
TEST_FPS = 240


async def wait_for_idle(min_sleep: float = IDLE_AT_LEAST, max_sleep: float = 1) -> None:
    """Textual's `wait_for_idle` (each Pilot pause, and twice after each key it presses),
    in 5 ms slices instead of 20 ms: the same test (this process used under 5% of a
    slice's CPU), but a busy spell is no longer rounded up to whole 20 ms slices, and
    with the screens at TEST_FPS the least wait is 8 ms, not 20 ms (Pilot waits like this
    a few times for every key and click: most of a Pilot test's time)."""
    start = time.monotonic()
    least = max(min_sleep, IDLE_AT_LEAST)
    while True:
        cpu = time.process_time()
        await asyncio.sleep(IDLE_SLICE)
        elapsed = time.monotonic() - start
        if elapsed >= max_sleep:
            return
        if elapsed > least and time.process_time() - cpu < IDLE_SLICE * IDLE_SHARE:
            return


@pytest.fixture(autouse=True, scope="session")
def quicker_pilot_idle() -> Iterator[None]:
    import textual.app
    import textual.pilot
    import textual.screen

    with pytest.MonkeyPatch.context() as patch:
        # textual==8.2.8 is pinned: both modules import the function by name, and each
        # screen reads UPDATE_PERIOD when it makes its update timer (after this).
        patch.setattr(textual.app, "wait_for_idle", wait_for_idle)
        patch.setattr(textual.pilot, "wait_for_idle", wait_for_idle)
        patch.setattr(textual.screen, "UPDATE_PERIOD", 1 / TEST_FPS)
        yield


#: One dashboard in this many runs the real `freeze_long_lived` (see below).
FREEZE_EVERY = 10


@pytest.fixture(autouse=True, scope="session")
def fewer_gc_freezes() -> Iterator[None]:
    """Each dashboard's `freeze_long_lived` (after its first page) unfreezes, collects and
    freezes the whole process: in a test worker, every earlier test's heap, for each of
    hundreds of apps. Here one app in FREEZE_EVERY does it; so the heap stays mostly
    frozen (the collector's own full passes stay short: a long one inside an app's
    first-frame wait would make it late) and the garbage of earlier tests is still
    collected. The policy's own tests (tests/unit/test_gc_policy.py,
    tests/ui/test_gc_policy_ui.py) call the real one every time."""
    import queue_tui.tui.app
    from queue_tui.core.gc_policy import FreezeReport, freeze_long_lived

    calls = itertools.count()

    def now_and_then() -> FreezeReport:
        if next(calls) % FREEZE_EVERY == 0:
            return freeze_long_lived()
        return FreezeReport(0, 0, 0.0)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queue_tui.tui.app, "freeze_long_lived", now_and_then)
        yield
