"""The dashboard freezes its long-lived objects once, right after the first page is painted."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import queue_tui.tui.app as app_module
from queue_tui.core.gc_policy import freeze_long_lived

from .conftest import first_poll, make_app, poll


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


async def test_the_first_page_is_frozen_once_with_its_rows_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []

    def spy() -> object:
        calls.append(app.table.row_count)
        return freeze_long_lived()

    monkeypatch.setattr(app_module, "freeze_long_lived", spy)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await first_poll(pilot)
        assert app.polls == 1
        assert len(calls) == 1 and calls[0] > 0  # after the rows were applied
        assert gc.get_freeze_count() > 0
        await poll(pilot)
        await poll(pilot)
        assert app.polls == 3
        assert len(calls) == 1
