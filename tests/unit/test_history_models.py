"""The history's rows, pages and model prices: parsed exactly (costs are Decimals from
the digits the hub sent) and tolerantly (a bad cost costs the field, not the row);
the client's requests and its "no history" outcome, against stubbed HTTP (respx)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from queue_tui.api.client import GENERATIONS_PATH, HistoryUnavailableError, QueueClient
from queue_tui.api.errors import BadPayloadError, ServerError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import (
    PastGeneration,
    money_text,
    parse_generation,
    parse_history_page,
    parse_model_prices,
    parse_money,
)
from queue_tui.config import Settings

HOST = "https://hub.test"


def client() -> QueueClient:
    return QueueClient(Settings(host=HOST, token="tok", token_source="--token"))


def row(gid: str = "g1", **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "generation_id": gid,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "succeeded",
        "enqueued_at": 1_764_000_000,
        "cost": "0.025",
        "user_id": "u_1",
        "username": "maya",
        "user_image": "https://hub.test/a.png",
        "seed": 42,
    }
    out.update(kw)
    return out


def envelope(*rows: dict[str, Any], **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "count": len(rows),
        "generations": list(rows),
        "page_number": 1,
        "page_size": 50,
        "total_entries": len(rows),
        "total_pages": 1,
        "total_cost": "0.025",
    }
    out.update(kw)
    return out


# -- money ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.025", Decimal("0.025")),
        (" 0.0400 ", Decimal("0.0400")),
        ("1E+3", Decimal("1E+3")),
        ("-0.50", Decimal("-0.50")),
        (3, Decimal(3)),
        (None, None),
        ("", None),
    ],
)
def test_money_is_read_as_the_decimal_the_hub_wrote(raw: Any, expected: Decimal | None) -> None:
    assert parse_money(raw) == expected
    if expected is not None:
        assert str(parse_money(raw)) == str(expected)


def test_money_is_written_back_as_a_plain_decimal() -> None:
    assert money_text(Decimal("1E+3")) == "1000"
    assert money_text(Decimal("0.0400")) == "0.0400"
    assert money_text(None) is None


@pytest.mark.parametrize(
    "raw", ["abc", "NaN", "Infinity", "-inf", True, 0.1, [1], {"a": 1}, "1e20", "1e-30"]
)
def test_money_refuses_what_is_not_an_exact_amount(raw: Any) -> None:
    with pytest.raises(ValueError):
        parse_money(raw)


def test_a_row_costs_exactly_what_it_says_and_sums_without_float_error() -> None:
    rows = [parse_generation(row(f"g{i}", cost="0.1"), PastGeneration) for i in range(3)]
    assert sum((r.cost for r in rows if r.cost is not None), Decimal(0)) == Decimal("0.3")
    assert rows[0].to_api()["cost"] == "0.1"
    assert rows[0].username == "maya" and rows[0].user_id == "u_1"
    # The user fields and the cost are the row's own, not request parameters.
    assert rows[0].params == {"seed": 42}


@pytest.mark.parametrize("bad", ["twelve", ["0.1"], {"amount": 1}, "NaN", True])
def test_a_bad_cost_costs_the_field_not_the_row(bad: Any) -> None:
    gen = parse_generation(row(cost=bad, username=["x"]), PastGeneration)
    assert gen.generation_id == "g1" and gen.model_name == "flux-1-dev"
    assert gen.cost is None and gen.username is None
    assert set(gen.invalid_fields) == {"cost", "username"}
    assert gen.invalid_fields["cost"] == json.dumps(bad)
    api = gen.to_api()
    assert api["cost"] is None
    assert api["invalid_fields"]["cost"] == json.dumps(bad)


def test_the_envelope_keeps_the_hubs_total_and_drops_only_rows_without_an_id() -> None:
    page = parse_history_page(
        envelope(row("a"), {"no": "id"}, row("b", cost="x"), total_cost="761.4155", count=3)
    )
    assert [g.generation_id for g in page.generations] == ["a", "b"]
    assert len(page.dropped) == 1 and page.degraded == 1
    assert page.total_cost == Decimal("761.4155")
    assert page.to_api()["total_cost"] == "761.4155"


def test_bad_envelope_numbers_are_unknown_not_fatal() -> None:
    page = parse_history_page(
        envelope(
            row(),
            total_cost="lots",
            total_pages="3",
            page_size=True,
            page_number=0,
            total_entries=-1,
        )
    )
    assert page.total_cost is None
    assert (page.total_pages, page.page_size, page.page_number, page.total_entries) == (
        None,
        None,
        None,
        None,
    )
    assert set(page.invalid_fields) == {
        "total_cost",
        "total_pages",
        "page_size",
        "page_number",
        "total_entries",
    }
    assert len(page.generations) == 1


def test_model_prices_nested_or_flat_and_a_bad_price_is_unknown() -> None:
    nested = parse_model_prices("veo", {"model": {"cost_per_second": "0.15"}, "status": "ok"})
    assert nested.cost_per_second == Decimal("0.15") and nested.cost_per_image is None
    assert nested.any
    flat = parse_model_prices("x", {"cost_per_image": "free", "id": "x"})
    assert flat.cost_per_image is None and flat.invalid_fields == {"cost_per_image": '"free"'}
    assert not flat.any


# -- the client ---------------------------------------------------------------------------


@respx.mock
async def test_history_page_sends_the_filters_and_paging_and_reads_json_numbers_exactly() -> None:
    body = (
        b'{"count": 1, "page_number": 2, "page_size": 100, "total_entries": 101,'
        b' "total_pages": 2, "total_cost": 12.3400, "generations": [{"generation_id": "g1",'
        b' "cost": 0.0400, "enqueued_at": 1764000000.5, "status": "failed"}]}'
    )
    route = respx.get(f"{HOST}{GENERATIONS_PATH}").respond(200, content=body)
    async with client() as c:
        page = await c.history_page(
            QueueFilters(model="flux-1-dev", search="fox"), page=2, page_size=1000
        )
    params = dict(route.calls.last.request.url.params)
    assert params == {"model": "flux-1-dev", "page": "2", "page_size": "1000"}
    # A JSON number is read by its text: 0.0400 stays four places, never 0.04000000001.
    assert str(page.generations[0].cost) == "0.0400"
    assert str(page.total_cost) == "12.3400"
    assert page.generations[0].enqueued_at == 1_764_000_000.5
    assert (page.page_number, page.page_size, page.total_pages) == (2, 100, 2)


@pytest.mark.parametrize("status", [404, 405, 501])
@respx.mock
async def test_a_hub_without_the_history_is_its_own_outcome(status: int) -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").respond(status, text="nope")
    async with client() as c:
        with pytest.raises(HistoryUnavailableError) as caught:
            await c.history_page()
    assert caught.value.exit_code == 10 and caught.value.status_code == status
    assert caught.value.message == (
        f"{HOST} has no history: GET /api/ai/generations answered {status}"
    )


@respx.mock
async def test_history_faults_map_as_every_request_does() -> None:
    respx.get(f"{HOST}{GENERATIONS_PATH}").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, text="<html>")]
    )
    async with client() as c:
        with pytest.raises(ServerError):
            await c.history_page()
        with pytest.raises(BadPayloadError):
            await c.history_page()


@respx.mock
async def test_model_prices_or_none_where_the_hub_has_none() -> None:
    respx.get(f"{HOST}/api/ai/models/veo%2F3").respond(
        200, json={"model": {"cost_per_second": "0.15", "cost_per_image": None}}
    )
    respx.get(f"{HOST}/api/ai/models/gone").respond(404)
    async with client() as c:
        prices = await c.model_prices("veo/3")
        assert prices is not None and prices.cost_per_second == Decimal("0.15")
        assert prices.model == "veo/3"
        assert await c.model_prices("gone") is None
