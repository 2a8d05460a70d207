"""How statuses and media look: glyph + word (readable without colour), theme colours."""

from __future__ import annotations

from rich.style import Style
from textual.color import Color

from queue_tui.core.sanitize import clean

#: Glyph and word per hub status. Unknown statuses are shown as "? <raw>".
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "queued": ("◷", "queued"),
    "processing": ("▶", "processing"),
    "in_progress": ("▶", "in progress"),
    "succeeded": ("✔", "succeeded"),
    "failed": ("✖", "failed"),
    "cancelled": ("⊘", "cancelled"),
    # Not a hub status: rows that left the queue whose outcome is not known yet (the
    # table shows them "… finishing"; the status bar counts them apart).
    "finishing": ("…", "finishing"),
}
UNKNOWN_GLYPH = "?"

#: Default order: running work first, then waiting work, then what has finished.
STATUS_RANK: dict[str, int] = {
    "processing": 0,
    "in_progress": 1,
    "queued": 2,
    "finishing": 3,
    "failed": 4,
    "cancelled": 5,
    "succeeded": 6,
}
UNKNOWN_RANK = 3

#: Which theme colour each status takes ("unknown" is any status the hub invents).
STATUS_THEME_COLOR: dict[str, str] = {
    "queued": "warning",
    "processing": "primary",
    "in_progress": "primary",
    "succeeded": "success",
    "failed": "error",
    "cancelled": "muted",
    "unknown": "secondary",
}


def status_label(status: str, *, max_len: int = 14) -> str:
    """`"✖ failed"`, or `"? <raw>"` (cleaned, shortened) for a status nobody told us about."""
    known = STATUS_LABELS.get(status)
    if known is not None:
        return f"{known[0]} {known[1]}"
    return f"{UNKNOWN_GLYPH} {clean(status, max_len=max(1, max_len - 2))}"


def status_rank(status: str) -> int:
    return STATUS_RANK.get(status, UNKNOWN_RANK)


def theme_status_styles(variables: dict[str, str], *, dark: bool = True) -> dict[str, Style]:
    """Rich styles per status from the app's CSS variables (so they follow `--theme`)."""

    def parse(name: str, fallback: str) -> Color:
        try:
            return Color.parse(variables.get(name, fallback))
        except Exception:  # a theme with an odd value must not break the table
            return Color.parse(fallback)

    background = parse("background", "#000000" if dark else "#ffffff")
    foreground = parse("foreground", "#e0e0e0" if dark else "#202020")
    styles: dict[str, Style] = {}
    for status, name in STATUS_THEME_COLOR.items():
        if name == "muted":
            color = background.blend(foreground, 0.6)
        else:
            color = parse(name, "#888888")
            # Keep status text readable on the table background.
            if dark and color.brightness < 0.45:
                color = color.lighten(0.15)
            elif not dark and color.brightness > 0.6:
                color = color.darken(0.2)
        styles[status] = Style(color=color.rich_color, bold=status in ("failed", "processing"))
    return styles


def status_style(styles: dict[str, Style], status: str) -> Style:
    return styles.get(status) or styles.get("unknown") or Style()
