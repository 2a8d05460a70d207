"""The demo hub's one JSON encoder, shared by its routes and its chaos middleware."""

from __future__ import annotations

import json
from typing import Any


def hub_json(data: Any) -> bytes:
    """Compact JSON in UTF-8; unknown objects are stringified rather than crashing. A
    string holding a lone surrogate (which UTF-8 cannot carry, and which a row can hold:
    `add_row`, a POSTed `\\ud800` escape) makes the whole body go out with non-ASCII
    characters escaped instead, so the hub still answers with valid JSON."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str).encode(
            "utf-8"
        )
    except UnicodeEncodeError:
        return json.dumps(data, separators=(",", ":"), default=str).encode("ascii")
