"""A lone UTF-16 surrogate in the *key* of a row's extra field never costs the row.

JSON lets a body spell a lone surrogate (``"\\ud800"``); `json.loads` (the client's
decoder) turns it into a `str` holding U+D800, which pydantic accepts in a value but
rejects in an extra key ("unable to parse raw data as a unicode string"). The parser
keeps such a row and replaces each lone surrogate in the key by U+FFFD.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from queue_tui.api import models
from queue_tui.api.client import QUEUE_PATH, QueueClient
from queue_tui.api.models import Generation, parse_generation, parse_queue_page
from queue_tui.config import Settings
from queue_tui.sanitize import clean
from queue_tui.tui.widgets.detail_pane import render_generation

HOST = "https://hub.test"
NOW = 1_764_000_000.0

GOOD = {"generation_id": "good", "model_name": "flux-dev", "status": "queued", "seed": 1}
# The body as a hub would send it: the surrogate is a JSON escape, the bytes are ASCII.
JUNK_ROW_JSON = (
    '{"generation_id":"junk","model_name":"flux-dev","status":"processing",'
    '"x\\ud800y":"key junk","aspect_ratio":"16:9","note":"value junk \\udc00"}'
)
BODY = ('{"count":2,"generations":[' + json.dumps(GOOD) + "," + JUNK_ROW_JSON + "]}").encode()


def check_page(page: Any) -> Generation:
    assert page.dropped == []
    assert [g.generation_id for g in page.generations] == ["good", "junk"]
    good, junk = page.generations
    assert good.params == {"seed": 1}
    assert junk.status == "processing" and junk.model_name == "flux-dev"
    return junk


def test_the_body_really_carries_a_lone_surrogate_key() -> None:
    """Guards the tests below against a body that lost its teeth."""
    row = json.loads(BODY)["generations"][1]
    assert "x\ud800y" in row
    with pytest.raises(UnicodeEncodeError):
        "x\ud800y".encode()


def test_client_parse_path_keeps_the_row_and_makes_the_key_safe() -> None:
    junk = check_page(QueueClient._parse_page(BODY))
    assert junk.params == {
        "x\ufffdy": "key junk",
        "aspect_ratio": "16:9",
        "note": "value junk \udc00",  # values were always fine; shown via clean()
    }
    for key in junk.params:
        key.encode("utf-8")  # every key is encodable now
    # The row round-trips to JSON for `list --json` and the events log.
    assert json.loads(json.dumps(junk.to_api(), ensure_ascii=True))["x\ufffdy"] == "key junk"


def test_parse_queue_page_on_decoded_data() -> None:
    check_page(parse_queue_page(json.loads(BODY)))


def test_single_row_parse_keeps_it_too() -> None:
    row = json.loads(JUNK_ROW_JSON)
    assert parse_generation(row).params["x\ufffdy"] == "key junk"


def test_several_surrogates_and_both_halves_are_replaced() -> None:
    row = {"generation_id": "g", "\ud800\udfff\udc00": 1, "\udbff": 2, "ok": 3}
    page = parse_queue_page({"generations": [row]})
    assert page.dropped == []
    assert page.generations[0].params == {"\ufffd\ufffd\ufffd": 1, "\ufffd": 2, "ok": 3}


def test_a_real_key_wins_over_junk_that_sanitises_to_it() -> None:
    # chr(): ruff (F601) takes every lone surrogate in a key literal for the same key.
    row = {"generation_id": "g", chr(0xD800): "junk", "\ufffd": "real", chr(0xDC00): "junk 2"}
    page = parse_queue_page({"generations": [row]})
    assert page.dropped == []
    assert page.generations[0].params == {"\ufffd": "real"}


def test_two_junk_keys_that_collide_keep_the_first() -> None:
    row = {"generation_id": "g", "a" + chr(0xD800): 1, "a" + chr(0xDC00): 2}
    assert parse_queue_page({"generations": [row]}).generations[0].params == {"a\ufffd": 1}


def test_a_row_bad_for_another_reason_keeps_that_reason() -> None:
    """Cleaning a surrogate key does not hide the row's other fault: no id drops the
    row with that reason; a bad field is set aside as it would be without the key."""
    rows = [
        {"model_name": "no id", "\ud800": 1},
        {"generation_id": "bad-time", "enqueued_at": "not a time", "\ud800": 1},
        GOOD,
    ]
    page = parse_queue_page({"generations": rows})
    assert [g.generation_id for g in page.generations] == ["bad-time", "good"]
    assert [d.index for d in page.dropped] == [0]
    assert page.dropped[0].reason.startswith("generation_id:")
    bad = page.generations[0]
    assert bad.invalid_fields == {"enqueued_at": '"not a time"'}
    assert bad.params == {"\ufffd": 1}


def test_only_rows_that_fail_validation_take_the_slow_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page of good rows pays nothing: keys are looked at only after a row failed."""
    calls: list[Any] = []
    original = models._surrogate_free_keys

    def counting(data: Any) -> Any:
        calls.append(data)
        return original(data)

    monkeypatch.setattr(models, "_surrogate_free_keys", counting)
    rows = [{"generation_id": f"g{i}", "seed": i} for i in range(100)]
    assert len(parse_queue_page({"generations": rows}).generations) == 100
    assert calls == []
    assert len(QueueClient._parse_page(BODY).generations) == 2
    assert [row["generation_id"] for row in calls] == ["junk"]


async def test_fetch_and_get_keep_the_row() -> None:
    settings = Settings(host=HOST, token="t", token_source="--token")
    with respx.mock(base_url=HOST) as mock:
        mock.get(QUEUE_PATH).respond(content=BODY, headers={"content-type": "application/json"})
        mock.get(f"{QUEUE_PATH}/junk").respond(
            content=JUNK_ROW_JSON.encode(), headers={"content-type": "application/json"}
        )
        async with QueueClient(settings) as client:
            result = await client.fetch()
            got = await client.get("junk")
    check_page(result.page)
    assert got is not None and got.params["x\ufffdy"] == "key junk"


def test_detail_pane_shows_the_params_of_such_a_row() -> None:
    junk = check_page(QueueClient._parse_page(BODY))
    grid = render_generation(junk, NOW)
    rows = {label.plain: value.plain for label, value in grid.rows}
    assert rows[clean("x\ufffdy")] == "key junk"
    assert rows["aspect_ratio"] == "16:9"
    assert rows["note"] == clean("value junk \udc00")
    for label, value in grid.rows:
        (label.plain + value.plain).encode("utf-8")
