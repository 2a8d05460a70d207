"""The model filter offers the models seen, the most recently seen ones: a hub naming a
new model on every row must not grow the list (and the Select) all day."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Select
from textual.widgets.select import InvalidSelectValueError

from queue_tui.tui.widgets.filter_bar import MODEL_OPTIONS_KEPT, FilterBar


class FilterBarHost(App[None]):
    def compose(self) -> ComposeResult:
        yield FilterBar()


async def test_model_options_keep_the_most_recently_seen_and_the_selected_one() -> None:
    app = FilterBarHost()
    async with app.run_test() as pilot:
        bar = app.query_one(FilterBar)
        bar.populate()  # the dashboard does it after its first frame
        await pilot.pause()
        select = bar.query_one("#model", Select)
        bar.learn_models(["model-000"])
        select.value = "model-000"  # the user picks it...
        names = [f"model-{i:03}" for i in range(1, 150)]
        bar.learn_models(names)  # ...then a hub names 149 more
        await pilot.pause()
        assert select.value == "model-000", "the selected model stays offered"
        for name in names[-(MODEL_OPTIONS_KEPT - 1) :]:
            select.value = name  # offered
        for name in names[: -(MODEL_OPTIONS_KEPT - 1)]:
            with pytest.raises(InvalidSelectValueError):
                select.value = name
        # Seen again, a model is recent again: a new name evicts the oldest other one.
        oldest = names[-(MODEL_OPTIONS_KEPT - 1)]
        bar.learn_models([oldest])
        bar.learn_models(["model-new"])
        select.value = oldest
        with pytest.raises(InvalidSelectValueError):
            select.value = names[-(MODEL_OPTIONS_KEPT - 2)]


async def test_filters_set_before_the_widgets_are_mounted_show_in_them_and_are_posted() -> None:
    from queue_tui.api.filters import QueueFilters
    from queue_tui.tui.messages import FiltersChanged

    posted: list[QueueFilters] = []

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield FilterBar(QueueFilters(namespace="ox"))

        def on_filters_changed(self, message: FiltersChanged) -> None:
            posted.append(message.filters)

    app = Host()
    async with app.run_test() as pilot:
        bar = app.query_one(FilterBar)
        assert bar.filters == QueueFilters(namespace="ox")
        bar.learn_models(["flux"])
        bar.set_filters(QueueFilters(model="flux", status="failed"))  # e.g. a palette command
        await pilot.pause()
        assert posted == [QueueFilters(model="flux", status="failed")]
        bar.populate()
        await pilot.pause()
        assert bar.query_one("#status", Select).value == "failed"
        assert bar.query_one("#model", Select).value == "flux"
        assert bar.query_one("#status", Select).has_class("-set")
        assert bar.filters == QueueFilters(model="flux", status="failed")
        assert len(posted) == 1, "mounting the widgets is not a change"
