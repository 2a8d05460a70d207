"""`parse_queue_text`: the page parsed from its text, validating only the rows whose text
changed since the last page; whatever it cannot split is left to `json.loads`."""

from __future__ import annotations

import json

import pytest

from queue_tui.api.models import parse_queue_page, parse_queue_text

NOW = 1_764_000_000


def row(gid: str, **extra: object) -> dict[str, object]:
    return {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "queued",
        "enqueued_at": NOW,
        **extra,
    }


def dump(page: object) -> object:
    return page.model_dump()  # type: ignore[attr-defined]


BODIES = [
    json.dumps({"count": 3, "generations": [row("a"), row("b"), row("c", seed=1)]}),
    json.dumps({"generations": [row("a")], "count": 9}, indent=2),
    '  {  "generations" : [ ] , "count" : 0 }  ',
    # A nested value with brackets and braces inside strings.
    json.dumps({"generations": [row("a", params={"p": "}]{[", "l": [1, {"x": None}]})]}),
    # Rows dropped (no id) and degraded (a field of the wrong type) as before.
    json.dumps({"generations": [{"model_name": "x"}, row("b", enqueued_at="soon"), 7]}),
    # The last of two `generations` wins, as with json.loads.
    json.dumps({"generations": [row("a")]})[:-1]
    + ', "generations": ['
    + json.dumps(row("z"))
    + "]}",
]


@pytest.mark.parametrize("text", BODIES)
def test_the_page_is_the_one_json_loads_gives(text: str) -> None:
    parsed = parse_queue_text(text, {})
    assert parsed is not None
    assert dump(parsed[0]) == dump(parse_queue_page(json.loads(text)))


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{}",
        '{"generations": 3}',
        '{"generations": [1,]}',
        '{"generations": []} trailing',
        '{"generations": [}',
        "NaN",
        "",
    ],
)
def test_anything_else_is_left_to_a_whole_decode(text: str) -> None:
    assert parse_queue_text(text, {}) is None


def test_only_rows_whose_text_changed_are_new_objects() -> None:
    first_text = json.dumps({"generations": [row("a"), row("b"), row("c")]})
    first, index = parse_queue_text(first_text, {})  # type: ignore[misc]
    second_text = json.dumps({"generations": [row("a"), row("b", status="processing"), row("d")]})
    second, _ = parse_queue_text(second_text, index)  # type: ignore[misc]
    a, b, d = second.generations
    assert a is first.generations[0], "the same text: the same object"
    assert b is not first.generations[1] and b.status == "processing"
    assert d.generation_id == "d"
    assert dump(second) == dump(parse_queue_page(json.loads(second_text)))


def test_the_same_text_under_another_position_is_still_reused() -> None:
    rows = [row("a"), row("b")]
    first, index = parse_queue_text(json.dumps({"generations": rows}), {})  # type: ignore[misc]
    second, _ = parse_queue_text(json.dumps({"generations": rows[::-1]}), index)  # type: ignore[misc]
    assert second.generations[0] is first.generations[1]
    assert second.generations[1] is first.generations[0]
