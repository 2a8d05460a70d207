"""Row parsing against the spec: every field, drift, and bad rows dropped not fatal."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_tui.api.models import (
    API_MEDIA_TYPES,
    API_STATUSES,
    Generation,
    MediaType,
    PageShapeError,
    Status,
    parse_generation,
    parse_queue_page,
)

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[1] / "spec" / "queue.openapi.yaml").read_text("utf-8")
)
ROW_SCHEMA = SPEC["components"]["schemas"]["QueueListResponse"]["properties"]["generations"][
    "items"
]

NOW = 1_764_000_000.0


def spec_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "generation_id": "0b8a4f8e-6a55-4d2c-9a0e-5d7a0f0f2a11",
        "model_name": "black-forest-labs/flux-dev",
        "media_type": "image",
        "status": "processing",
        "enqueued_at": int(NOW) - 100,
        "started_at": int(NOW) - 40,
        "completed_at": None,
        "error_message": None,
        "result_url": None,
        "target_namespace": "ox",
        "target_repo": "renders",
        "target_directory": "cats",
    }
    row.update(overrides)
    return row


# -- the spec itself drives the generated rows ----------------------------------------


def _strategy_for(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in prop:
        base: st.SearchStrategy[Any] = st.sampled_from(prop["enum"])
    elif prop.get("format") == "uuid":
        base = st.uuids().map(str)
    elif prop["type"] == "integer":
        # Plausible unix seconds (values above 1e11 are read as milliseconds).
        base = st.integers(min_value=0, max_value=4_000_000_000)
    elif prop["type"] == "string":
        base = st.text(max_size=50)
    else:  # pragma: no cover - the spec has no other row types
        raise AssertionError(prop)
    return st.one_of(st.none(), base) if prop.get("nullable") else base


@st.composite
def valid_rows(draw: st.DrawFn) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, prop in ROW_SCHEMA["properties"].items():
        if name in ROW_SCHEMA["required"] or draw(st.booleans()):
            row[name] = draw(_strategy_for(prop))
    return row


#: Rows with no usable id: dropped (and counted).
CORRUPTIONS: list[Any] = [
    42,
    "not a row",
    None,
    ["a", "list"],
    {"model_name": "no id"},
    {"generation_id": ""},
    {"generation_id": None},
    {"generation_id": ["x"]},
]
#: Rows with an id and a field of the wrong type: kept, that field unset and kept raw.
DEGRADED: list[tuple[dict[str, Any], str]] = [
    ({"generation_id": "bad-status", "status": 3}, "status"),
    ({"generation_id": "bad-time", "enqueued_at": "yesterday-ish"}, "enqueued_at"),
    ({"generation_id": "bool-time", "enqueued_at": True}, "enqueued_at"),
    ({"generation_id": "dict-time", "started_at": {"t": 1}}, "started_at"),
    ({"generation_id": "inf-time", "completed_at": 10**400}, "completed_at"),
    ({"generation_id": "dict-model", "model_name": {"name": "x"}}, "model_name"),
    ({"generation_id": "list-error", "error_message": ["boom"]}, "error_message"),
]


@settings(max_examples=60)
@given(
    st.lists(
        st.one_of(
            valid_rows().map(lambda r: ("good", r)),
            st.sampled_from(CORRUPTIONS).map(lambda r: ("bad", r)),
            st.sampled_from(DEGRADED).map(lambda r: ("degraded", r)),
        ),
        max_size=30,
    )
)
def test_generated_pages_keep_good_rows_and_count_bad_ones(
    rows: list[tuple[str, Any]],
) -> None:
    raws = [r[0] if kind == "degraded" else r for kind, r in rows]
    page = parse_queue_page({"count": len(rows), "generations": raws})
    kept = [(kind, r) for kind, r in rows if kind != "bad"]
    bad_indexes = [i for i, (kind, _) in enumerate(rows) if kind == "bad"]
    assert page.count == len(rows)
    assert [g.generation_id for g in page.generations] == [
        (r[0] if kind == "degraded" else r)["generation_id"] for kind, r in kept
    ]
    assert [d.index for d in page.dropped] == bad_indexes
    assert all(d.reason for d in page.dropped)
    assert page.degraded == sum(1 for kind, _ in kept if kind == "degraded")
    assert page.to_api()["count"] == len(page.generations)
    for gen, (kind, raw) in zip(page.generations, kept, strict=True):
        if kind == "degraded":
            _, field = raw
            # The bad field costs the field: unset, its raw value kept for display.
            assert list(gen.invalid_fields) == [field]
            assert getattr(gen, field) == Generation.model_fields[field].default
            continue
        assert not gen.invalid_fields
        for name in ROW_SCHEMA["properties"]:
            expected = raw.get(name)
            actual = getattr(gen, name)
            if name.endswith("_at") and expected is not None:
                assert actual == float(expected)
            elif expected is not None:
                assert actual == expected, name
        # Round trip through the API shape is lossless.
        assert Generation.model_validate(gen.to_api()) == gen


@given(valid_rows())
def test_to_api_output_validates_against_the_spec(row: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = {**SPEC["components"]["schemas"]["QueueListResponse"]}
    page = parse_queue_page({"count": 1, "generations": [row]}).to_api()
    jsonschema.validate(page, _openapi_to_jsonschema(schema))


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable: true` -> JSON Schema type lists."""
    if isinstance(node, dict):
        out = {k: _openapi_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable"):
            out["type"] = [node["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        return out
    if isinstance(node, list):
        return [_openapi_to_jsonschema(v) for v in node]
    return node


# -- every field, one at a time -----------------------------------------------------------


def test_spec_row_every_field() -> None:
    gen = Generation.model_validate(
        spec_row(
            status="failed",
            completed_at=int(NOW) - 5,
            error_message="CUDA out of memory",
            result_url="https://hub.oxen.ai/x.png",
        )
    )
    assert gen.generation_id == "0b8a4f8e-6a55-4d2c-9a0e-5d7a0f0f2a11"
    assert gen.model_name == "black-forest-labs/flux-dev"
    assert gen.media_type == "image" and gen.media_enum is MediaType.IMAGE
    assert gen.status == "failed" and gen.status_enum is Status.FAILED
    assert gen.status_reported is True
    assert gen.enqueued_at == NOW - 100
    assert gen.started_at == NOW - 40
    assert gen.completed_at == NOW - 5
    assert gen.error_message == "CUDA out of memory"
    assert gen.result_url == "https://hub.oxen.ai/x.png"
    assert (gen.target_namespace, gen.target_repo, gen.target_directory) == (
        "ox",
        "renders",
        "cats",
    )
    assert gen.target == "ox/renders/cats"
    assert gen.is_terminal and not gen.is_active
    assert gen.params == {}
    assert gen.wait_seconds(NOW) == 60
    assert gen.run_seconds(NOW) == 35
    assert gen.age_seconds(NOW) == 100


@pytest.mark.parametrize(
    "field", ["started_at", "completed_at", "error_message", "result_url", "target_repo"]
)
def test_nullable_fields_accept_null_and_absence(field: str) -> None:
    assert getattr(Generation.model_validate(spec_row(**{field: None})), field) is None
    row = spec_row()
    del row[field]
    assert getattr(Generation.model_validate(row), field) is None


def test_queued_row_times() -> None:
    gen = Generation.model_validate(spec_row(status="queued", started_at=None))
    assert gen.is_active and not gen.is_terminal
    assert gen.wait_seconds(NOW) == 100  # still waiting: now - enqueued
    assert gen.run_seconds(NOW) is None
    assert gen.target == "ox/renders/cats"


def test_cancelled_while_queued_has_no_run_time() -> None:
    gen = Generation.model_validate(
        spec_row(status="cancelled", started_at=None, completed_at=int(NOW) - 10)
    )
    assert gen.wait_seconds(NOW) == 90  # waited until it was cancelled
    assert gen.run_seconds(NOW) is None


def test_timestamps_in_other_encodings() -> None:
    gen = Generation.model_validate(
        spec_row(
            enqueued_at=int(NOW * 1000),  # milliseconds
            started_at="2025-11-24T16:00:00Z",
            completed_at=str(int(NOW)),
        )
    )
    assert gen.enqueued_at == NOW
    assert gen.started_at == 1_764_000_000.0
    assert gen.completed_at == NOW


@pytest.mark.parametrize(
    ("field", "value"),
    [("status", "paused"), ("status", "expired"), ("media_type", "audio"), ("media_type", "3d")],
)
def test_unknown_enums_are_kept_as_raw_strings(field: str, value: str) -> None:
    gen = Generation.model_validate(spec_row(**{field: value}))
    assert getattr(gen, field) == value
    if field == "status":
        assert gen.status_enum is None
        # The hub listed it: treat as still in flight rather than hide it.
        assert gen.is_active and not gen.is_terminal
    else:
        assert gen.media_enum is None
    assert gen.to_api()[field] == value


def test_extra_fields_are_kept_in_params() -> None:
    gen = Generation.model_validate(
        spec_row(seed=42, aspect_ratio="16:9", duration=5, cost=0.04, retried_from_id="abc")
    )
    assert gen.params == {
        "seed": 42,
        "aspect_ratio": "16:9",
        "duration": 5,
        "cost": 0.04,
        "retried_from_id": "abc",
    }
    api = gen.to_api()
    assert api["seed"] == 42 and api["retried_from_id"] == "abc"


def test_docs_older_shape_parses_as_in_progress() -> None:
    page = parse_queue_page(
        {
            "count": 1,
            "generations": [
                {
                    "generation_id": "3f1c",
                    "model": "kling-video-v2",
                    "media_type": "video",
                    "prompt": "a cat surfing",
                    "seed": 7,
                    "aspect_ratio": "16:9",
                    "duration": 5,
                    "enqueued_at": int(NOW) - 30,
                }
            ],
        }
    )
    assert not page.dropped
    (gen,) = page.generations
    assert gen.model_name == "kling-video-v2"
    assert gen.status == "in_progress" and gen.status_enum is Status.IN_PROGRESS
    assert gen.status_reported is False
    assert gen.is_active and not gen.is_terminal
    assert gen.prompt == "a cat surfing"
    assert gen.params == {"seed": 7, "aspect_ratio": "16:9", "duration": 5}
    assert gen.result_url is None
    assert gen.wait_seconds(NOW) == 30


def test_status_null_is_the_old_shape_too() -> None:
    gen = Generation.model_validate(spec_row(status=None))
    assert gen.status == "in_progress" and gen.is_active


def test_integer_ids_become_strings() -> None:
    assert Generation.model_validate(spec_row(generation_id=123)).generation_id == "123"


def test_missing_optional_fields_default() -> None:
    gen = Generation.model_validate({"generation_id": "x"})
    assert gen.model_name == "unknown" and gen.media_type == "unknown"
    assert gen.enqueued_at is None and gen.wait_seconds(NOW) is None
    assert gen.age_seconds(NOW) is None
    assert gen.target == ""


def test_bad_field_costs_the_field_only_a_row_without_id_is_dropped() -> None:
    page = parse_queue_page(
        {
            "count": 4,
            "generations": [
                spec_row(generation_id="good-1"),
                spec_row(generation_id="bad-1", enqueued_at={"nope": 1}),
                "garbage",
                spec_row(generation_id="good-2", status="queued", started_at=None),
            ],
        }
    )
    assert [g.generation_id for g in page.generations] == ["good-1", "bad-1", "good-2"]
    assert [(d.index, d.generation_id) for d in page.dropped] == [(2, None)]
    bad = page.generations[1]
    assert bad.enqueued_at is None and bad.invalid_fields == {"enqueued_at": '{"nope": 1}'}
    assert bad.model_name == spec_row()["model_name"]  # the rest of the row is intact
    assert page.degraded == 1 and page.count == 4
    api = page.to_api()
    assert (api["count"], api["dropped"], api["degraded"]) == (3, 1, 1)
    assert api["generations"][1]["invalid_fields"] == {"enqueued_at": '{"nope": 1}'}


def test_a_hub_cannot_set_invalid_fields_itself() -> None:
    gen = parse_generation({"generation_id": "x", "invalid_fields": {"status": "1"}})
    assert gen.invalid_fields == {}


def test_old_shape_model_of_the_wrong_type_is_degraded_too() -> None:
    gen = parse_generation({"generation_id": "x", "model": ["flux"], "prompt": "p"})
    assert gen.model_name == "unknown" and gen.invalid_fields == {"model_name": '["flux"]'}
    assert gen.prompt == "p" and not gen.status_reported


@pytest.mark.parametrize("value", [10**400, -1e300, "9999-12-31T23:59:59", float("nan")])
def test_absurd_timestamps_cost_the_field_not_the_row(value: Any) -> None:
    page = parse_queue_page(
        {"count": 2, "generations": [spec_row(enqueued_at=value), spec_row(generation_id="ok")]}
    )
    assert len(page.generations) == 2 and not page.dropped
    assert page.generations[0].enqueued_at is None
    assert list(page.generations[0].invalid_fields) == ["enqueued_at"]


@pytest.mark.parametrize(
    "body",
    [
        {"data": []},
        {"generations": "oops"},
        {"generations": {"a": 1}},
        "a string",
        42,
        None,
    ],
)
def test_wrong_envelope_is_a_shape_error(body: Any) -> None:
    with pytest.raises(PageShapeError):
        parse_queue_page(body)


def test_bare_list_and_missing_count_are_tolerated() -> None:
    page = parse_queue_page([spec_row()])
    assert page.count == 1 and len(page.generations) == 1
    page = parse_queue_page({"generations": [spec_row(), spec_row(generation_id="b")]})
    assert page.count == 2
    page = parse_queue_page({"count": "many", "generations": []})
    assert page.count == 0


def test_page_to_api_shape() -> None:
    page = parse_queue_page({"count": 1, "generations": [spec_row(seed=1)]})
    api = page.to_api()
    assert set(api) == {"count", "generations", "dropped", "degraded"}
    assert api["generations"][0]["seed"] == 1
    assert api["generations"][0]["enqueued_at"] == int(NOW) - 100


def test_generation_is_frozen() -> None:
    gen = Generation.model_validate(spec_row())
    with pytest.raises(ValueError):
        gen.status = "failed"  # type: ignore[misc]


def test_enum_constants_match_the_spec() -> None:
    params = {p["name"]: p for p in SPEC["paths"]["/api/ai/queue"]["get"]["parameters"]}
    assert list(API_STATUSES) == params["status"]["schema"]["enum"]
    assert list(API_MEDIA_TYPES) == params["media_type"]["schema"]["enum"]
    assert str(uuid.UUID(spec_row()["generation_id"]))


def test_search_looks_in_id_model_target_error_prompt_and_status_as_they_are_now() -> None:
    from queue_tui.api.filters import QueueFilters

    gen = Generation(
        generation_id="Gen-1",
        model_name="Flux-Pro",
        target_namespace="ox",
        target_repo="Renders",
        prompt="A Red Fox",
        status="queued",
    )

    def found(text: str, row: Generation = gen) -> bool:
        return QueueFilters(search=text).matches(row)

    for text in ("gen-1", "FLUX", "ox/renders", "red fox", "QUEUED"):
        assert found(text), text
    assert not found("timeout")
    assert not found("pro\0ox"), "a match never spans two fields"
    # A row changed by a copy (an outcome, an error) is searched as it is now.
    failed = gen.model_copy(update={"status": "failed", "error_message": "GPU timeout"})
    assert found("timeout", failed) and found("failed", failed)
    assert not found("queued", failed)
