"""Programs the pty benchmarks start (not a benchmark itself).

python benchmarks/_runner.py bare [--tick]
    A bare Textual app painting one Static ("bench-ready"); with --tick it rewrites
    a clock in that Static every second (the floor of a live Textual app).
python benchmarks/_runner.py floor [--no-gc-pause] [--page URL]
    The start-up floor of the dashboard: the same bare app, after importing first
    what the dashboard must have loaded before it can paint a row (click for the CLI,
    httpx for HTTP, `queue_tui.api.models` for parsing, with pydantic), then Textual,
    each with the cyclic collector paused as `queue_tui.cli` imports them
    (`imports_paused_gc`); --no-gc-pause imports them with the collector running.
    --page URL: it paints only after fetching and parsing that hub's first page;
    --table: and shows its rows in Textual's DataTable (the plain way to paint rows).
python benchmarks/_runner.py hub --rows N [--churn SHARE] [--every SECONDS]
    The demo hub on loopback serving N active rows that never change (the
    simulator's clock is stopped), or with --churn that share of them changing every
    --every seconds. Prints its URL on the first line of stdout.
python benchmarks/_runner.py poll-floor URL [--interval SECONDS]
    Only fetches the hub's queue page and parses it (json, the models), every interval.
python benchmarks/_runner.py keys -- ARGS
    The real CLI, marking on the terminal when a timed key's effect is shown.
python benchmarks/_runner.py dashboard --rows N [--sort COLUMN] [--report FILE] [--stock-textual]
    The real dashboard (QueueApp) on an in-process demo hub holding N rows, with
    the app's clock and the hub's clock stopped and no timed polls, so it writes
    nothing unless told to. Signals:
      SIGUSR1  one visible queued row starts processing; the app polls at once
      SIGUSR2  repaint the whole screen
    Each signal appends a JSON line to FILE when it has been handled.
python benchmarks/_runner.py cli [--stock-textual] -- ARGS
    The real CLI (`queue-tui ARGS`).
--stock-textual runs either without the app's Textual patches (a baseline; see
`stock_textual`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import inspect
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any


def stock_textual() -> None:
    """Baseline: run the app without `queue_tui.tui.textual_patches` (Textual's own
    `ChopsUpdate.render_segments`, which writes a partial line update from the widget's
    left edge instead of the changed column). The app as shipped installs the fix."""
    from queue_tui.tui import textual_patches

    textual_patches.install_crop_fix = lambda: False  # type: ignore[assignment]


def run_bare(tick: bool, page: str | None = None, table: bool = False) -> None:
    """With `page` (a hub's URL), the Static shows "bench-ready" only once the first page
    of `GET /api/ai/queue` is fetched and parsed (json and the models), as a row needs;
    with `table` too, in the same frame as the page's rows in Textual's DataTable."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Static

    class BareApp(App[None]):
        BINDINGS = [("q", "quit", "Quit")]

        def compose(self) -> ComposeResult:
            yield Static("" if page else "bench-ready", id="static")
            if table:
                yield DataTable(id="table")

        async def on_mount(self) -> None:
            if tick:
                self.set_interval(1.0, self._tick)
            if page:
                rows = await fetch_first_page(page)
                if table:
                    grid = self.query_one("#table", DataTable)
                    grid.add_columns("status", "model", "media", "id")
                    grid.add_rows(
                        (g.status, g.model_name, g.media_type, g.generation_id[:8]) for g in rows
                    )
                self.query_one("#static", Static).update(f"bench-ready {len(rows)}")

        def _tick(self) -> None:
            self.query_one("#static", Static).update(
                f"bench-ready {time.strftime('%H:%M:%S')}", layout=False
            )

    BareApp().run()


async def fetch_first_page(url: str) -> list[Any]:
    """One `GET /api/ai/queue` with httpx, parsed and validated as the client does (json,
    then the models); returns the rows."""
    import json

    import httpx

    from queue_tui.api.models import parse_queue_page

    # No certificate store for a plain-http hub, as the dashboard's client.
    async with httpx.AsyncClient(base_url=url, verify=url.startswith("https:")) as http:
        response = await http.get("/api/ai/queue")
    return list(parse_queue_page(json.loads(response.content)).generations)


#: What the dashboard must have imported before its first row: the CLI, HTTP, parsing.
FLOOR_MODULES = ("click", "httpx", "queue_tui.api.models")


def run_floor(gc_pause: bool, page: str | None = None, table: bool = False) -> None:
    """`run_bare` after the imports a row needs, in the dashboard's order (they, then
    Textual), each with the collector paused as `queue_tui.cli` does (unless not)."""
    import importlib

    from queue_tui.core.gc_policy import imports_paused_gc

    paused = imports_paused_gc if gc_pause else contextlib.nullcontext
    with paused():
        for name in FLOOR_MODULES:
            importlib.import_module(name)
    with paused():  # as `cli.main` imports the app
        import textual.app
        import textual.widgets  # noqa: F401
    run_bare(tick=False, page=page, table=table)


def frozen_hub_sim(rows: int, start: float) -> Any:
    """A simulator serving `rows` rows that never change, every row injected (so a
    benchmark can replace any of them with `add_row`)."""
    from queue_tui.demo.clock import FakeClock
    from queue_tui.demo.simulator import QueueSimulator

    clock = FakeClock(start)
    source = QueueSimulator.with_active_rows(rows, 7, clock=clock)
    sim = QueueSimulator.with_active_rows(0, 7, clock=clock)
    for row in source.list():
        sim.add_row(row)
    return sim


def run_hub(rows: int, churn: float = 0.0, every: float = 2.0) -> None:
    """With `churn`, that share of the rows (at least one) changes every `every` seconds:
    a queued row starts processing, or a processing row's start moves back 1-30 s."""
    import random
    import threading

    from queue_tui.demo.server import DemoServer

    sim = frozen_hub_sim(rows, time.time())
    if churn > 0:
        rng = random.Random(rows)
        ids = [row["generation_id"] for row in sim.list()]
        per_tick = max(1, round(rows * churn))

        def change() -> None:
            while True:
                time.sleep(every)
                for gid in rng.sample(ids, min(per_tick, len(ids))):
                    row = dict(sim.get(gid))
                    if row["status"] == "queued":
                        row.update(status="processing", started_at=int(time.time()))
                    else:
                        row["started_at"] = (row.get("started_at") or 0) - rng.randint(1, 30)
                    sim.add_row(row)

        threading.Thread(target=change, daemon=True).start()
    with DemoServer(sim=sim) as server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def run_poll_floor(url: str, interval: float) -> None:
    """The CPU floor of a dashboard polling `url`: one `GET /api/ai/queue` every
    `interval` seconds over one kept-alive connection, the body parsed and validated as
    the client does (json, then the models), nothing else. Prints "ready" once the first
    page is parsed."""
    import httpx

    from queue_tui.api.models import parse_queue_page

    async def loop() -> None:
        async with httpx.AsyncClient(base_url=url, verify=False) as http:
            first = True
            while True:
                started = time.monotonic()
                response = await http.get("/api/ai/queue")
                parse_queue_page(json.loads(response.content))
                if first:
                    print("ready", flush=True)
                    first = False
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(loop())


#: The marker `run_keys` writes (an OSC the terminal ignores) once a key's effect is
#: on screen: ESC ] 9999 ; k<n> BEL, n counting the timed keys from 1.
KEY_MARK = "\x1b]9999;k{}\x07"


def run_keys(cli_args: list[str]) -> None:
    """The real CLI (`queue-tui ARGS`), which also writes `KEY_MARK` to the terminal
    right after the first frame that shows a key's effect: j/k the cursor one row
    down/up, G/g on the last/first row, s another sort column, / the search field
    focused, a letter the rows filtered by it. Other keys are not timed."""
    from textual import events
    from textual.screen import Screen
    from textual.widgets import Input

    from queue_tui.cli import main as cli_main
    from queue_tui.tui.app import QueueApp

    pending: list[tuple[int, Any]] = []
    count = [0]

    def effect(app: Any, key: str, character: str | None) -> Any:
        table = app.table
        row, sort = table.cursor_row, table.sort_column
        if character and character.isalpha() and isinstance(app.focused, Input):
            text = app.focused.value + character
            return lambda: app.filters.search == text
        if key == "j":
            return lambda: table.cursor_row == row + 1
        if key == "k":
            return lambda: table.cursor_row == row - 1
        if key == "G":
            return lambda: table.cursor_row == table.row_count - 1
        if key == "g":
            return lambda: table.cursor_row == 0
        if key == "s":
            return lambda: table.sort_column != sort
        if key == "slash":
            return lambda: isinstance(app.focused, Input) and app.focused.id == "search"
        return None

    original_event = QueueApp.on_event
    original_refresh = Screen._compositor_refresh

    seen: list[Any] = [None]

    async def on_event(self: Any, event: Any) -> None:
        # A key the focused widget does not handle comes back to the app (bubbles): once.
        if isinstance(event, events.Key) and event is not seen[0]:
            seen[0] = event
            check = effect(self, event.key, event.character)
            if check is not None:
                count[0] += 1
                pending.append((count[0], check))
        await original_event(self, event)

    def compositor_refresh(self: Any) -> None:
        original_refresh(self)
        if pending:
            done = [(n, check) for n, check in pending if check()]
            for item in done:
                pending.remove(item)
                self.app._driver.write(KEY_MARK.format(item[0]))

    QueueApp.on_event = on_event  # type: ignore[method-assign]
    Screen._compositor_refresh = compositor_refresh  # type: ignore[method-assign]
    cli_main(cli_args, prog_name="queue-tui")


def run_dashboard(rows: int, sort: str | None, report: str | None) -> None:
    from queue_tui.api.asgi_stream import StreamingASGITransport
    from queue_tui.demo.clock import FakeClock
    from queue_tui.demo.server import create_app
    from queue_tui.screenshots.frozen import DEMO_START, SteadyClient, frozen_settings
    from queue_tui.tui.app import QueueApp

    clock = FakeClock(DEMO_START)
    sim = frozen_hub_sim(rows, DEMO_START)
    settings = frozen_settings()
    settings.interval = 24 * 3600.0
    client = SteadyClient(settings, transport=StreamingASGITransport(create_app(sim)))
    changed: set[str] = set()

    def log(event: dict[str, Any]) -> None:
        if report:
            with open(report, "a") as fh:
                fh.write(json.dumps(event) + "\n")

    class BenchDashboard(QueueApp):
        # Textual resolves a relative CSS_PATH against the subclass's own file.
        CSS_PATH = str(Path(inspect.getfile(QueueApp)).parent / str(QueueApp.CSS_PATH))

        def on_mount(self) -> None:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGUSR1, self.change_one_row)
            loop.add_signal_handler(signal.SIGUSR2, self.repaint_all)
            if sort:
                self.table.set_sort(sort)
            self.set_timer(0.05, self.when_loaded)

        def when_loaded(self) -> None:
            """After the first page: put the cursor on the first queued row, a few lines
            from the top (so queued rows fill the screen whatever the sort), let one poll
            with nothing changed settle the place the app keeps, then report "ready"."""
            if self.polls == 0:
                self.set_timer(0.05, self.when_loaded)
                return
            table = self.table
            queued = [g for g in table.ordered_ids if table.generations[g].status == "queued"]
            if queued:
                table.select_id(queued[0])
            # After the cursor's own scroll-into-view has run.
            self.call_after_refresh(self.scroll_then_settle, queued[0] if queued else None)

        def scroll_then_settle(self, gid: str | None) -> None:
            if gid is not None:
                top = max(0, self.table.ordered_ids.index(gid) - 3)
                self.table.scroll_to(y=top, animate=False, immediate=True)
            polls = self.polls
            self.poller.refresh_now()

            def settled() -> None:
                if self.polls == polls:
                    self.set_timer(0.01, settled)
                    return
                self.call_after_refresh(lambda: log({"event": "ready"}))

            self.set_timer(0.01, settled)

        def visible_ids(self) -> list[str]:
            top = int(self.table.scroll_y)
            height = self.table.scrollable_content_region.height - 1
            return self.table.ordered_ids[top : top + height]

        def change_one_row(self) -> None:
            visible = self.visible_ids()
            cursor = self.table.cursor_id
            gid = next(
                (
                    g
                    for g in visible
                    if g not in changed
                    and g != cursor
                    and self.table.generations[g].status == "queued"
                ),
                None,
            )
            if gid is None:
                statuses = [self.table.generations[g].status for g in visible]
                log({"event": "change", "error": f"no visible queued row: {statuses}"})
                return
            changed.add(gid)
            before = visible.index(gid)
            row = dict(sim.get(gid))
            row.update(status="processing", started_at=int(clock()))
            sim.add_row(row)
            polls = self.polls

            def done() -> None:
                if self.polls == polls:
                    self.set_timer(0.01, done)
                    return
                after = self.table.ordered_ids.index(gid) - int(self.table.scroll_y)
                log(
                    {
                        "event": "change",
                        "id": gid,
                        "line_before": before,
                        "line_after": after,
                        "resorted": self.table.last_apply.resorted,
                        "changed_cells": self.table.last_apply.changed_cells,
                    }
                )

            self.poller.refresh_now()
            self.set_timer(0.01, done)

        def repaint_all(self) -> None:
            self.screen.refresh()
            self.call_after_refresh(lambda: log({"event": "repaint"}))

    BenchDashboard(settings, client=client, clock=clock).run()


def run_phases(report: str, cli_args: list[str] | None = None) -> None:
    """Where start-up time goes: the same path as `queue-tui --demo` (or `cli_args`),
    time-stamped.

    Each stamp is taken once (the first time its point is reached); `startup.py` prints
    the time between consecutive stamps."""
    stamps: dict[str, float] = {"script": time.perf_counter()}

    def stamp(name: str) -> None:
        stamps.setdefault(name, time.perf_counter())

    import queue_tui.cli as cli

    stamp("import queue_tui.cli (click, httpx, pydantic, models)")
    # As `cli.main` imports it (the collector paused, see cli.py), when it can.
    with getattr(cli, "imports_paused_gc", contextlib.nullcontext)():
        import queue_tui.tui.app as app_module

    stamp("import queue_tui.tui.app (textual, widgets)")
    from queue_tui.api.client import QueueClient
    from queue_tui.core.outcomes import LifecycleWatcher

    app_class = app_module.QueueApp
    original_init = app_class.__init__
    original_mount = app_class.on_mount
    original_poll = app_class.on_poll_succeeded
    original_fetch = QueueClient.fetch
    original_backfill = LifecycleWatcher.backfill
    original_freeze = getattr(app_module, "freeze_long_lived", None)

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        stamp("click parsing, settings, client incl. demo hub (simulator warm-up, starlette)")
        original_init(self, *args, **kwargs)
        stamp("QueueApp()")

    async def on_mount(self: Any) -> None:
        stamp("Textual start-up: driver, CSS, compose, mount")
        result = original_mount(self)
        if inspect.isawaitable(result):  # the app waits there for its first frame
            await result

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        stamp("first poll starts")
        result = await original_fetch(self, *args, **kwargs)
        stamp("first page fetched and parsed")
        return result

    async def backfill(self: Any, *args: Any, **kwargs: Any) -> Any:
        stamp("tracker observes the first page")
        try:
            return await original_backfill(self, *args, **kwargs)
        finally:
            stamp("history backfill: terminal lists fetched, parsed, added")

    def freeze() -> Any:  # counted only when it runs before the first paint
        stamp("rows applied to the table")
        try:
            return original_freeze()  # type: ignore[misc]
        finally:
            stamp("gc_policy.freeze_long_lived (collect + freeze)")

    def on_poll_succeeded(self: Any, message: Any) -> None:
        stamp("page message reaches the app")

        def painted() -> None:
            stamp("first rows painted")
            base = stamps["script"]
            with open(report, "w") as fh:
                json.dump({k: (v - base) * 1000 for k, v in stamps.items()}, fh)
            self.exit()

        # Before the handler's own after-refresh callbacks (the GC freeze runs in one).
        self.call_after_refresh(painted)
        original_poll(self, message)
        stamp("rows applied to the table")

    app_class.__init__ = init  # type: ignore[method-assign]
    app_class.on_mount = on_mount  # type: ignore[method-assign]
    app_class.on_poll_succeeded = on_poll_succeeded  # type: ignore[method-assign]
    QueueClient.fetch = fetch  # type: ignore[method-assign]
    LifecycleWatcher.backfill = backfill  # type: ignore[method-assign]
    if original_freeze is not None:
        app_module.freeze_long_lived = freeze  # type: ignore[attr-defined]
    cli.main(cli_args or ["--demo"], prog_name="queue-tui", standalone_mode=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    bare = sub.add_parser("bare")
    bare.add_argument("--tick", action="store_true")
    floor = sub.add_parser("floor")
    floor.add_argument("--no-gc-pause", action="store_true")
    floor.add_argument("--page", metavar="URL", help="paint after fetching the hub's first page")
    floor.add_argument("--table", action="store_true", help="with --page: its rows in a DataTable")
    hub = sub.add_parser("hub")
    hub.add_argument("--rows", type=int, default=500)
    hub.add_argument("--churn", type=float, default=0.0, help="share of rows changing")
    hub.add_argument("--every", type=float, default=2.0, help="seconds between changes")
    floor_poll = sub.add_parser("poll-floor")
    floor_poll.add_argument("url")
    floor_poll.add_argument("--interval", type=float, default=2.0)
    keys = sub.add_parser("keys")
    keys.add_argument("args", nargs="*")
    dash = sub.add_parser("dashboard")
    dash.add_argument("--rows", type=int, default=500)
    dash.add_argument("--sort")
    dash.add_argument("--report")
    dash.add_argument("--stock-textual", action="store_true")
    phases = sub.add_parser("phases")
    phases.add_argument("--report", required=True)
    phases.add_argument("args", nargs="*", help="the CLI's arguments (default: --demo)")
    cli = sub.add_parser("cli")
    cli.add_argument("--stock-textual", action="store_true")
    cli.add_argument("args", nargs="*")
    args = parser.parse_args(argv)
    if getattr(args, "stock_textual", False):
        stock_textual()
    if args.mode == "bare":
        run_bare(args.tick)
    elif args.mode == "floor":
        run_floor(gc_pause=not args.no_gc_pause, page=args.page, table=args.table)
    elif args.mode == "hub":
        run_hub(args.rows, args.churn, args.every)
    elif args.mode == "poll-floor":
        run_poll_floor(args.url, args.interval)
    elif args.mode == "keys":
        run_keys(args.args)
    elif args.mode == "phases":
        run_phases(args.report, args.args)
    elif args.mode == "cli":
        from queue_tui.cli import main as cli_main

        cli_main(args.args, prog_name="queue-tui")
    else:
        run_dashboard(args.rows, args.sort, args.report)


if __name__ == "__main__":
    sys.exit(main())
