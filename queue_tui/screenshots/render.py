"""Render the README screenshots: the dashboard on the seeded demo hub, time frozen.

Run `python -m queue_tui.screenshots [OUT_DIR] [--png]`; SVGs are written to
`screenshots/` by default (PNGs too with `--png`, when `rsvg-convert` is installed).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from queue_tui.screenshots.frozen import frozen_demo_app, utc_time
from queue_tui.tui.app import QueueApp

Step = Callable[[Pilot], Awaitable[None]]
POLL_WAIT = 10.0


@dataclass
class Shot:
    name: str
    title: str
    size: tuple[int, int]
    filters: dict[str, str] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()


async def _first_poll(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, QueueApp)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + POLL_WAIT
    while app.polls + app.failures == 0:
        if loop.time() > deadline:
            raise RuntimeError("the demo hub did not answer")
        await pilot.pause(0.01)
    # The status bar says "events: live" once the completion stream is connected.
    while app.model.events_state.value != "live":
        if loop.time() > deadline:
            raise RuntimeError("the demo hub's event stream did not connect")
        await pilot.pause(0.01)
    await pilot.pause()


def _select_error(needle: str, nth: int = 0) -> Step:
    async def step(pilot: Pilot) -> None:
        table = pilot.app.table  # type: ignore[attr-defined]
        matches = [
            gid
            for gid in table.ordered_ids
            if needle in (table.generations[gid].error_message or "")
        ]
        table.select_id(matches[min(nth, len(matches) - 1)])
        await pilot.pause()

    return step


def _press(*keys: str) -> Step:
    async def step(pilot: Pilot) -> None:
        await pilot.press(*keys)
        await pilot.pause()

    return step


def _move(rows: int) -> Step:
    return _press(*(["down"] * rows))


def _work(seconds: float, step: float = 30.0) -> Step:
    """The demo hub works for `seconds` of its frozen clock, polled every `step`."""

    async def run(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, QueueApp)
        loop = asyncio.get_running_loop()
        for _ in range(int(seconds // step)):
            app.clock.advance(step)  # type: ignore[attr-defined]
            seen = app.polls + app.failures
            app.action_refresh()
            deadline = loop.time() + POLL_WAIT
            while app.polls + app.failures == seen or app.follow_ups < app.polls:
                if loop.time() > deadline:
                    raise RuntimeError("the demo hub did not answer")
                await pilot.pause(0.01)
        await pilot.pause()
        app.clear_notifications()

    return run


SHOTS: tuple[Shot, ...] = (
    Shot("overview", "queue-tui: the live queue", (120, 36), steps=(_move(3),)),
    Shot(
        "failed-generation",
        "queue-tui: a failed generation and its error",
        (120, 36),
        {"status": "failed"},
        (_select_error("out of memory", 2),),
    ),
    Shot(
        "filters",
        "queue-tui: filters in use",
        (120, 36),
        {"status": "succeeded", "media_type": "video"},
        (_press("slash", *"storyboards", "escape"), _move(2)),
    ),
    Shot("small-80x24", "queue-tui at 80x24", (80, 24), steps=(_move(1),)),
    Shot("narrow-60x20", "queue-tui at 60x20", (60, 20), steps=(_move(1),)),
    Shot("wide", "queue-tui on a wide terminal", (160, 44), steps=(_move(4),)),
    Shot(
        "traceback-detail",
        "queue-tui: full-screen detail",
        (120, 36),
        {"status": "failed"},
        (_select_error("Traceback"), _press("enter")),
    ),
    Shot("help", "queue-tui: keys", (120, 36), steps=(_press("question_mark"),)),
    Shot(
        "stats",
        "queue-tui: stats, ETAs and finished rows (t)",
        (160, 44),
        steps=(_work(300), _press("t")),
    ),
)


async def render_shot(shot: Shot) -> str:
    app = frozen_demo_app(remember=False, **shot.filters)
    svg = ""
    async with app.run_test(size=shot.size) as pilot:
        for widget in app.query(Input):
            widget.cursor_blink = False
        await _first_poll(pilot)
        for step in shot.steps:
            await step(pilot)
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        svg = app.export_screenshot(title=shot.title)
    return svg


async def render_all(out_dir: Path, *, png: bool = False) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    converter = shutil.which("rsvg-convert") if png else None
    with utc_time():
        for shot in SHOTS:
            path = out_dir / f"{shot.name}.svg"
            path.write_text(await render_shot(shot), encoding="utf-8")
            written.append(path)
            if converter:
                target = path.with_suffix(".png")
                subprocess.run([converter, str(path), "-o", str(target)], check=True)
                written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m queue_tui.screenshots")
    parser.add_argument("out_dir", nargs="?", default="screenshots", type=Path)
    parser.add_argument("--png", action="store_true", help="also write PNGs (rsvg-convert)")
    args = parser.parse_args(argv)
    for path in asyncio.run(render_all(args.out_dir, png=args.png)):
        print(path)
    return 0
