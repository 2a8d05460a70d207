"""The footer: the keys that work here, as one line drawn by one widget.

Textual's `Footer` is a container that mounts a `FooterKey` widget per key and
recomposes them (unmount, mount, restyle each) whenever the active bindings change,
which is every time focus moves. On the dashboard that was 12 widgets, about a quarter
of the start-up's style work (measured with pyinstrument: the recompose after the first
focus plus one restyle per key for its `compact` flag) and a remount of every key on
each Tab. This widget draws the same line itself: `render()` lays out the keys from
`screen.active_bindings`; a change of bindings that does not change the line does
nothing, one that does repaints this one line. Clicking a key presses it, as Textual's
does; hovering marks it and shows its tooltip.

At 80 columns every shown key does not fit: below `NARROW_WIDTH` the keys that are
obvious or automatic step aside (`enter` opens the detail; `r` refreshes, which polling
does anyway; `p` pauses, which the status bar reports; `ctrl+p` opens the palette) so
Cancel, Stats, Help and "esc Back to table" stay visible. A key is drawn whole or not
at all: the last ones (Mark, Resubmit) give way first, and the palette keeps its place
on a wide line. They all still work, and `?` lists them. With `--read-only`, a
"read-only" badge leads the line.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

NARROW_WIDTH = 120
#: Actions whose footer key is hidden below NARROW_WIDTH.
NARROW_HIDDEN = frozenset({"refresh", "select_cursor", "toggle_pause", "command_palette"})
BADGE = " read-only "


@dataclass(frozen=True)
class FooterKey:
    """One key as the footer shows it."""

    key: str
    display: str
    description: str
    action: str
    enabled: bool
    tooltip: str = ""


def _label_len(item: FooterKey) -> int:
    """Cells of `key description`."""
    return cell_len(item.display) + (1 + cell_len(item.description) if item.description else 0)


@dataclass(frozen=True)
class _Placed:
    start: int
    end: int
    item: FooterKey


class DashboardFooter(Widget):
    """One line: `[read-only] key description  key description ...   ▏^p palette`."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "footer--key",
        "footer--description",
        "footer--hover",
        "footer--disabled",
        "footer--badge",
        "footer--separator",
    }
    DEFAULT_CSS = """
    DashboardFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    DashboardFooter > .footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    DashboardFooter > .footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    DashboardFooter > .footer--hover {
        background: $block-hover-background;
    }
    DashboardFooter > .footer--disabled {
        text-style: dim;
    }
    DashboardFooter > .footer--badge {
        background: $warning 30%;
        color: $text;
        text-style: bold;
    }
    DashboardFooter > .footer--separator {
        color: $foreground 20%;
    }
    """

    def __init__(self, *, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only
        self.keys: tuple[FooterKey, ...] = ()
        self.palette: FooterKey | None = None
        self._placed: list[_Placed] = []
        self._hover: FooterKey | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def set_read_only(self, read_only: bool) -> None:
        """The badge and the keys together (the app's `check_action` reads the same)."""
        self.read_only = read_only
        self._bindings_changed(self.screen)

    # -- what to show -------------------------------------------------------------------

    def _bindings_changed(self, screen: Screen) -> None:
        keys, palette = self._collect(screen)
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def _collect(self, screen: Screen) -> tuple[tuple[FooterKey, ...], FooterKey | None]:
        """The shown bindings, one per action (the first key bound to it), in order."""
        app = self.app
        by_action: dict[str, FooterKey] = {}
        for _node, binding, enabled, tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in by_action:
                continue
            by_action[binding.action] = FooterKey(
                binding.key,
                app.get_key_display(binding),
                binding.description,
                binding.action,
                enabled,
                tooltip or "",
            )
        palette = None
        if app.ENABLE_COMMAND_PALETTE:
            found = screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)
            if found is not None:
                _node, binding, enabled, tooltip = found
                palette = FooterKey(
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    enabled,
                    binding.tooltip or binding.description,
                )
                by_action.pop(binding.action, None)
        return tuple(by_action.values()), palette

    def shown_keys(self) -> list[FooterKey]:
        """The keys on the line at the current width, palette last (for tests, help)."""
        return [placed.item for placed in self._placed]

    # -- drawing ------------------------------------------------------------------------

    def render(self) -> Text:
        width = self.size.width
        narrow = width < NARROW_WIDTH
        key_style = self.get_component_rich_style("footer--key")
        description_style = self.get_component_rich_style("footer--description")
        hover_style = self.get_component_rich_style("footer--hover")
        disabled_style = self.get_component_rich_style("footer--disabled")
        line = Text(no_wrap=True, overflow="crop", end="")
        placed: list[_Placed] = []
        if self.read_only:
            line.append(BADGE, self.get_component_rich_style("footer--badge"))
            line.append(" ")

        def add(item: FooterKey, lead: str = "") -> None:
            extra = Style()
            if not item.enabled:
                extra += disabled_style
            if item == self._hover:
                extra += hover_style
            line.append(lead)
            start = line.cell_len
            line.append(item.display, key_style + extra)
            if item.description:
                line.append(" " + item.description, description_style + extra)
            placed.append(_Placed(start, line.cell_len, item))

        palette = self.palette
        # `▏^p palette` on the right, at least one cell after the keys.
        label = 1 + _label_len(palette) if palette is not None and not narrow else 0
        room = width - (label + 1 if label else 0)
        for item in self.keys:
            if narrow and item.action in NARROW_HIDDEN:
                continue
            lead = " " if placed else ""
            if placed and line.cell_len + len(lead) + _label_len(item) > room:
                continue  # a key is shown whole or not at all (the last ones give way)
            add(item, lead)
        if palette is not None and label:
            gap = width - line.cell_len - label
            if gap >= 1:
                line.append(" " * gap)
                line.append("▏", self.get_component_rich_style("footer--separator"))
                add(palette)
        self._placed = [p for p in placed if p.start < width]
        return line

    # -- mouse --------------------------------------------------------------------------

    def _item_at(self, x: int) -> FooterKey | None:
        for placed in self._placed:
            if placed.start <= x < placed.end:
                return placed.item
        return None

    def on_mouse_down(self, event: events.MouseDown) -> None:
        item = self._item_at(event.x)
        if item is None:
            return
        event.stop()
        if item.enabled:
            self.app.simulate_key(item.key)
        else:
            self.app.bell()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._set_hover(self._item_at(event.x))

    def on_leave(self, event: events.Leave) -> None:
        self._set_hover(None)

    def _set_hover(self, item: FooterKey | None) -> None:
        if item != self._hover:
            self._hover = item
            self.tooltip = (item.tooltip or item.description) if item else None
            self.refresh()
