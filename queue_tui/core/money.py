"""Money: the hub's costs as exact decimals, summed and shown without float surprises.

Amounts are `Decimal`s end to end (`api.models.parse_money` reads the digits the hub
sent). Sums use a wide context, so adding any number of costs never rounds. Shown with
at least 2 decimals and as many as the amount has (trailing zeros dropped), up to 4:
`$0.04`, `$0.0035`, `$1,234.50`. An amount with more decimals is rounded half-up to 4
and marked `~` (`~$0.1235`); a non-zero one that rounds to nothing reads `<$0.0001`.
The hub names no currency; Oxen.ai bills in US dollars, hence `$`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

CURRENCY = "$"
MIN_PLACES = 2
MAX_PLACES = 4
#: Where a sum starts ("0.00" in JSON when nothing was added).
ZERO = Decimal("0.00")
#: Wide enough for any sum of amounts `parse_money` accepts (< 1e15, >= 1e-18 each).
_EXACT = Context(prec=120)


def add(total: Decimal, amount: Decimal) -> Decimal:
    """`total + amount`, exactly (the default context keeps only 28 digits)."""
    return _EXACT.add(total, amount)


def places(amount: Decimal) -> int:
    """The decimals `format_money` shows for `amount`: its own (trailing zeros
    dropped), at least `MIN_PLACES`, at most `MAX_PLACES`."""
    exponent = _EXACT.normalize(amount).as_tuple().exponent
    own = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return max(MIN_PLACES, min(MAX_PLACES, own))


def format_money(amount: Decimal | None, *, decimals: int | None = None, missing: str = "—") -> str:
    """`$1,234.50`: see the module's rules; `decimals` fixes the places (a column that
    lines up), else `places(amount)`. None reads `missing`."""
    if amount is None:
        return missing
    shown = places(amount) if decimals is None else decimals
    quantum = Decimal(1).scaleb(-shown)
    rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP, context=_EXACT)
    sign = "-" if rounded < 0 or (rounded == 0 and amount < 0) else ""
    if rounded == 0 and amount != 0:
        return f"{sign}<{CURRENCY}{quantum}"
    mark = "~" if rounded != amount else ""
    return f"{mark}{sign}{CURRENCY}{abs(rounded):,.{shown}f}"


__all__ = ["CURRENCY", "ZERO", "add", "format_money", "places"]
