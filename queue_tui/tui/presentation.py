"""How statuses look in the theme: each status's colour (`StatusInfo.style`, from the
one status table in `queue_tui.api.models.STATUSES`) as a Rich style."""

from __future__ import annotations

from rich.style import Style
from textual.color import Color

from queue_tui.api.models import STATUSES, UNKNOWN_STATUS_INFO
from queue_tui.core.columns import status_label as status_label
from queue_tui.core.columns import status_rank as status_rank

#: Which theme colour each status takes ("unknown" is any status the hub invents).
STATUS_THEME_COLOR: dict[str, str] = {s: info.style for s, info in STATUSES.items()} | {
    "unknown": UNKNOWN_STATUS_INFO.style
}
_BOLD_STATUSES = frozenset(s for s, info in STATUSES.items() if info.bold)


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
        styles[status] = Style(color=color.rich_color, bold=status in _BOLD_STATUSES)
    return styles


def status_style(styles: dict[str, Style], status: str) -> Style:
    return styles.get(status) or styles.get("unknown") or Style()
