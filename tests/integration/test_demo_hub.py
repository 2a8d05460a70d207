"""The demo hub over a real loopback socket, spoken to with plain httpx."""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import DemoServer

SPEC = Path(__file__).resolve().parents[1] / "spec" / "queue.openapi.yaml"
STATUSES = ("queued", "processing", "succeeded", "failed", "cancelled")
NOT_FOUND = {
    "error": {"type": "resource_not_found", "title": "Generation not found"},
    "status": "error",
}


def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema ``type: [X, "null"]``."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable_to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@pytest.fixture(scope="module")
def list_validator() -> jsonschema.Draft202012Validator:
    spec = yaml.safe_load(SPEC.read_text())
    schema = _nullable_to_json_schema(
        copy.deepcopy(spec["components"]["schemas"]["QueueListResponse"])
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture
def client(demo_server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo_server.url, timeout=5.0) as c:
        yield c


def listing(client: httpx.Client, **params: str) -> list[dict]:
    response = client.get("/api/ai/queue", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["generations"])
    return body["generations"]


def ids(rows: list[dict]) -> set[str]:
    return {r["generation_id"] for r in rows}


# ---------------------------------------------------------------- list


def test_default_lists_active_rows_only(client: httpx.Client) -> None:
    rows = listing(client)
    assert rows
    assert {r["status"] for r in rows} == {"queued", "processing"}
    stamps = [r["enqueued_at"] for r in rows]
    assert stamps == sorted(stamps)
    for row in rows:  # null fields are present as null
        assert "completed_at" in row and row["completed_at"] is None
        assert "result_url" in row and row["result_url"] is None
        assert "error_message" in row and row["error_message"] is None
        assert "prompt" in row and "seed" in row and "aspect_ratio" in row


@pytest.mark.parametrize("status", STATUSES)
def test_explicit_status_filter(client: httpx.Client, status: str) -> None:
    rows = listing(client, status=status)
    assert rows
    assert {r["status"] for r in rows} == {status}


@pytest.mark.parametrize(
    ("param", "field", "value"),
    [
        ("namespace", "target_namespace", "lumen"),
        ("model", "model_name", "flux-1-dev"),
        ("media_type", "media_type", "video"),
        ("repo", "target_repo", "product-shots"),
        ("folder", "target_directory", "renders/2026-11"),
    ],
)
def test_each_filter(client: httpx.Client, param: str, field: str, value: str) -> None:
    everything = listing(client, status="succeeded")
    filtered = listing(client, status="succeeded", **{param: value})
    assert filtered
    assert filtered == [r for r in everything if r[field] == value]
    active = listing(client, **{param: value})
    assert all(r[field] == value for r in active)
    assert all(r["status"] in ("queued", "processing") for r in active)


def test_filters_combine_and_unknown_values_match_nothing(client: httpx.Client) -> None:
    rows = listing(client, status="succeeded", namespace="ox", media_type="image")
    assert all(r["target_namespace"] == "ox" and r["media_type"] == "image" for r in rows)
    assert listing(client, model="no-such-model") == []
    assert listing(client, namespace="nobody", status="failed") == []


@pytest.mark.parametrize(
    "params", [{"status": "done"}, {"media_type": "audio"}, {"status": "QUEUED"}]
)
def test_bad_enum_is_422(client: httpx.Client, params: dict) -> None:
    response = client.get("/api/ai/queue", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["type"] == "invalid_params"
    assert body["error"]["title"]


# ---------------------------------------------------------------- conformance


@pytest.mark.parametrize("status", [None, *STATUSES])
def test_list_response_conforms_to_spec(
    client: httpx.Client, list_validator: jsonschema.Draft202012Validator, status: str | None
) -> None:
    params = {} if status is None else {"status": status}
    response = client.get("/api/ai/queue", params=params)
    body = response.json()
    list_validator.validate(body)
    assert body["generations"]
    for row in body["generations"]:
        assert uuid.UUID(row["generation_id"]).version == 4


def test_get_row_conforms_to_item_schema(
    client: httpx.Client, list_validator: jsonschema.Draft202012Validator
) -> None:
    row = listing(client)[0]
    got = client.get(f"/api/ai/queue/{row['generation_id']}").json()
    list_validator.validate({"count": 1, "generations": [got]})


# ---------------------------------------------------------------- get / cancel


def test_get_by_id_before_and_after_it_finishes(
    client: httpx.Client, fake_clock: FakeClock
) -> None:
    row = listing(client, status="processing")[0]
    gid = row["generation_id"]
    response = client.get(f"/api/ai/queue/{gid}")
    assert response.status_code == 200
    assert response.json() == row  # the row itself, no envelope
    fake_clock.advance(2 * 3600)
    response = client.get(f"/api/ai/queue/{gid}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    final = [r for s in ("succeeded", "failed", "cancelled") for r in listing(client, status=s)]
    assert gid in ids(final)


def test_get_unknown_is_404(client: httpx.Client) -> None:
    response = client.get(f"/api/ai/queue/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_cancel_then_cancel_again(client: httpx.Client) -> None:
    row = listing(client, status="queued")[-1]
    gid = row["generation_id"]
    response = client.delete(f"/api/ai/queue/{gid}")
    assert response.status_code == 200
    assert response.json() == {"status": "success", "generation_id": gid}
    assert gid not in ids(listing(client))
    assert gid in ids(listing(client, status="cancelled"))
    assert client.get(f"/api/ai/queue/{gid}").status_code == 404
    again = client.delete(f"/api/ai/queue/{gid}")
    assert again.status_code == 404
    assert again.json() == NOT_FOUND


def test_cancel_finished_row_is_404(client: httpx.Client) -> None:
    row = listing(client, status="succeeded")[-1]
    response = client.delete(f"/api/ai/queue/{row['generation_id']}")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert row["generation_id"] in ids(listing(client, status="succeeded"))


# ---------------------------------------------------------------- enqueue


def test_enqueue_then_listed(client: httpx.Client, fake_clock: FakeClock) -> None:
    body = {
        "model": "flux-1-schnell",
        "prompt": "a teal smartwatch on slate",
        "num_generations": 2,
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "target_directory": "drafts",
        "aspect_ratio": "1:1",
    }
    response = client.post("/api/ai/queue", json=body)
    assert response.status_code == 200, response.text
    generations = response.json()["generations"]
    assert len(generations) == 2
    assert all(set(g) == {"generation_id", "status"} for g in generations)
    assert all(g["status"] == "queued" for g in generations)
    new_ids = {g["generation_id"] for g in generations}
    listed = {r["generation_id"]: r for r in listing(client, namespace="ox", repo="product-shots")}
    assert new_ids <= set(listed)
    for gid in new_ids:
        assert listed[gid]["prompt"] == body["prompt"]
        assert listed[gid]["target_directory"] == "drafts"
        assert client.get(f"/api/ai/queue/{gid}").status_code == 200
    fake_clock.advance(3600)
    assert not new_ids & ids(listing(client))


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        json.dumps({"prompt": "x"}).encode(),
        json.dumps({"model": "flux-1-dev"}).encode(),
        json.dumps({"model": "flux-1-dev", "prompt": "x", "num_generations": 9}).encode(),
    ],
)
def test_enqueue_bad_body_is_422(client: httpx.Client, content: bytes) -> None:
    response = client.post(
        "/api/ai/queue", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "error" and body["error"]["type"] == "invalid_params"


def test_a_posted_lone_surrogate_comes_back_as_valid_json(client: httpx.Client) -> None:
    """UTF-8 cannot carry a lone surrogate: the hub escapes it (valid JSON, same text)
    instead of failing the request, and the list keeps answering."""
    content = b'{"model": "flux-1-schnell", "prompt": "x\\ud800y", "target_namespace": "ox"}'
    response = client.post(
        "/api/ai/queue", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    gid = response.json()["generations"][0]["generation_id"]
    row = client.get(f"/api/ai/queue/{gid}")
    assert row.status_code == 200
    assert b"\\ud800" in row.content
    assert row.json()["prompt"] == "x\ud800y"
    listed = client.get("/api/ai/queue", params={"namespace": "ox"})
    assert listed.status_code == 200
    assert "x\ud800y" in {r["prompt"] for r in listed.json()["generations"]}


# ---------------------------------------------------------------- events


def read_events(response: httpx.Response, until: Any, deadline: float) -> list[tuple[str, Any]]:
    """Parse SSE lines into (event, data) pairs (comments as ("comment", text))."""
    seen: list[tuple[str, Any]] = []
    event = None
    for line in response.iter_lines():
        if line.startswith(":"):
            seen.append(("comment", line[1:].strip()))
        elif line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            seen.append((event or "message", json.loads(line.split(":", 1)[1])))
            event = None
        if until(seen) or time.monotonic() > deadline:
            break
    return seen


def test_sse_delivers_completion_for_row_that_completes(
    demo_server: DemoServer, client: httpx.Client, fake_clock: FakeClock
) -> None:
    with client.stream("GET", "/api/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        created = client.post("/api/ai/queue", json={"model": "sse-test-model", "prompt": "x"})
        gid = created.json()["generations"][0]["generation_id"]
        fake_clock.advance(60)

        def mine(seen: list) -> bool:
            return any(isinstance(d, dict) and d.get("generation_id") == gid for _, d in seen)

        seen = read_events(response, mine, time.monotonic() + 5)
    completed = [d for name, d in seen if name == "media_generation_completed"]
    (event,) = [d for d in completed if d["generation_id"] == gid]
    assert event["model"] == "sse-test-model" and event["media_type"] == "image"
    if event["status"] == "succeeded":
        assert event["url"].endswith(".png") and "error" not in event
    else:
        assert event["status"] == "failed" and event["error"]
    assert all(d["status"] in ("succeeded", "failed") for d in completed)
    time.sleep(0.2)
    assert demo_server.sim.subscriber_count == 0  # disconnect unsubscribed


def test_sse_keepalive_and_no_replay(client: httpx.Client, fake_clock: FakeClock) -> None:
    fake_clock.advance(120)  # completions happen with nobody listening
    client.get("/api/ai/queue")
    with client.stream("GET", "/api/events") as response:
        seen = read_events(
            response, lambda s: any(n == "comment" for n, _ in s), time.monotonic() + 5
        )
    assert ("comment", "keep-alive") in seen
    assert not [d for n, d in seen if n == "media_generation_completed"]


def test_events_disabled_is_404(fake_clock: FakeClock) -> None:
    with DemoServer(seed=3, clock=fake_clock, events=False) as server:
        assert httpx.get(f"{server.url}/api/events").status_code == 404
        assert httpx.get(f"{server.url}/api/ai/queue").status_code == 200


def test_demo_server_shuts_down_with_stream_open(fake_clock: FakeClock) -> None:
    server = DemoServer(seed=3, clock=fake_clock).start()
    client = httpx.Client(base_url=server.url, timeout=5)
    stream = client.stream("GET", "/api/events").__enter__()
    assert stream.status_code == 200
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 3
    stream.close()
    client.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/api/ai/queue", timeout=1)
