"""Resubmitting: the body rebuilt from a row, the retry endpoint and the fallback to
enqueue, against stubbed HTTP (respx)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import respx

from queue_tui.api.client import QUEUE_PATH, QueueClient
from queue_tui.api.errors import BadPayloadError, RequestRejectedError, ServerError
from queue_tui.api.models import parse_generation
from queue_tui.config import Settings
from queue_tui.core.resubmit import (
    NotResubmittableError,
    Resubmitter,
    can_resubmit,
    rebuild_problem,
    resubmit_body,
)
from queue_tui.headless import run_resubmit

HOST = "https://hub.test"
NOW = 1_764_000_000
GID = "3f2a9c1d-0000-4000-8000-000000000001"
RETRY = f"{QUEUE_PATH}/{GID}/retry"


def settings() -> Settings:
    return Settings(host=HOST, token="tok", token_source="--token")


def failed_row(**kw: Any) -> dict[str, Any]:
    """A failed row as a hub sends it: the request merged in, and the hub's own fields."""
    row: dict[str, Any] = {
        "generation_id": GID,
        "model_name": "flux-1-dev",
        "media_type": "image",
        "status": "failed",
        "enqueued_at": NOW,
        "started_at": NOW + 5,
        "completed_at": NOW + 20,
        "error_message": "CUDA out of memory",
        "result_url": None,
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "target_directory": "renders/2026-11",
        "prompt": "a red fox in fresh snow",
        "seed": 42,
        "aspect_ratio": "16:9",
        "lora": "film-look",
        "guidance": 3.5,
        "loras": [{"name": "brand-style-v3", "scale": 0.8}],
        # Fields the hub added itself.
        "cost": "0.0300",
        "user_id": "u-1",
        "username": "ada",
        "user_image": "https://hub.test/a.png",
        "retried_from_id": "older-id",
        "updated_at": NOW + 21,
        "num_generations": 4,
    }
    row.update(kw)
    return row


HUB_SET = {
    "generation_id",
    "model_name",
    "media_type",
    "status",
    "enqueued_at",
    "started_at",
    "completed_at",
    "error_message",
    "result_url",
    "cost",
    "user_id",
    "username",
    "user_image",
    "retried_from_id",
    "updated_at",
    "num_generations",
}


# -- the body ------------------------------------------------------------------------------


def test_body_is_the_request_and_nothing_the_hub_set() -> None:
    body = resubmit_body(parse_generation(failed_row()))
    assert body == {
        "model": "flux-1-dev",
        "prompt": "a red fox in fresh snow",
        "seed": 42,
        "aspect_ratio": "16:9",
        "guidance": 3.5,
        "lora": "film-look",
        "loras": [{"name": "brand-style-v3", "scale": 0.8}],
        "target_namespace": "ox",
        "target_repo": "product-shots",
        "target_directory": "renders/2026-11",
    }
    assert not HUB_SET & body.keys()
    # Stable order: the spec's parameters, extras by name, the target last.
    assert list(body)[:4] == ["model", "prompt", "seed", "aspect_ratio"]
    assert list(body)[-3:] == ["target_namespace", "target_repo", "target_directory"]


def test_body_from_the_older_row_shape_takes_model() -> None:
    old = {
        "generation_id": GID,
        "model": "kling-v2-master",
        "media_type": "video",
        "enqueued_at": NOW,
        "prompt": "waves on a black sand beach",
        "duration": 10,
        "target_namespace": "lumen",
        "target_repo": "storyboards",
    }
    gen = parse_generation(old).model_copy(update={"status": "cancelled"})
    assert can_resubmit(gen)
    assert rebuild_problem(gen) is None
    assert resubmit_body(gen) == {
        "model": "kling-v2-master",
        "prompt": "waves on a black sand beach",
        "duration": 10,
        "target_namespace": "lumen",
        "target_repo": "storyboards",
    }


def test_body_leaves_out_nulls_and_hub_shaped_names() -> None:
    gen = parse_generation(
        failed_row(
            seed=None,
            target_directory=None,
            queued_at=NOW,
            render_cost="1.2",
            cost_usd="1.2",
            user_email="a@b",
            image_url="https://in.test/frame.png",
            costume="pirate",
        )
    )
    body = resubmit_body(gen)
    assert "seed" not in body and "target_directory" not in body
    for name in ("queued_at", "render_cost", "cost_usd", "user_email"):
        assert name not in body
    # Request parameters that only look like hub fields at a glance are kept.
    assert body["image_url"] == "https://in.test/frame.png"
    assert body["costume"] == "pirate"


def test_only_failed_and_cancelled_rows_are_resubmittable() -> None:
    for status, ok in [
        ("failed", True),
        ("cancelled", True),
        ("succeeded", False),
        ("queued", False),
        ("processing", False),
        ("exploded", False),
    ]:
        assert can_resubmit(parse_generation(failed_row(status=status))) is ok
    # The older shape without a status is simply in progress.
    assert not can_resubmit(parse_generation({"generation_id": "x", "model": "m", "prompt": "p"}))


def test_rebuild_problems_are_named() -> None:
    assert rebuild_problem(parse_generation(failed_row())) is None
    no_prompt = parse_generation(failed_row(prompt=None))
    assert "prompt" in (rebuild_problem(no_prompt) or "")
    no_model = parse_generation({k: v for k, v in failed_row().items() if k != "model_name"})
    assert "model" in (rebuild_problem(no_model) or "")
    garbled = parse_generation(failed_row(target_repo=["a", "b"]))
    assert "target_repo" in (rebuild_problem(garbled) or "")


# -- the client's retry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        {"generation_id": "new-1", "status": "queued", "retried_from_id": GID},
        {"generation": {"generation_id": "new-1", "status": "queued"}, "status": "success"},
        {"generations": [{"generation_id": "new-1", "status": "queued"}]},
    ],
)
@respx.mock(base_url=HOST)
async def test_retry_accepts_each_answer_shape(
    respx_mock: respx.Router, answer: dict[str, Any]
) -> None:
    route = respx_mock.post(RETRY).respond(json=answer)
    async with QueueClient(settings()) as client:
        assert await client.retry(GID) == ["new-1"]
    assert route.call_count == 1


@pytest.mark.parametrize("status", [404, 405, 501])
@respx.mock(base_url=HOST)
async def test_retry_without_the_endpoint_says_so(respx_mock: respx.Router, status: int) -> None:
    respx_mock.post(RETRY).respond(status, json={"error": {"type": "x"}, "status": "error"})
    async with QueueClient(settings()) as client:
        assert await client.retry(GID) is None


@pytest.mark.parametrize(
    "answer", [{"status": "success"}, [1, 2], {"generations": []}, {"generation": "new-1"}]
)
@respx.mock(base_url=HOST)
async def test_retry_answer_of_another_shape_is_a_bad_payload(
    respx_mock: respx.Router, answer: Any
) -> None:
    respx_mock.post(RETRY).respond(json=answer)
    async with QueueClient(settings()) as client:
        with pytest.raises(BadPayloadError):
            await client.retry(GID)


@respx.mock(base_url=HOST)
async def test_retry_refusal_and_faults_map_like_every_request(respx_mock: respx.Router) -> None:
    route = respx_mock.post(RETRY)
    route.return_value = httpx.Response(409, json={"error": {"title": "already succeeded"}})
    async with QueueClient(settings()) as client:
        with pytest.raises(RequestRejectedError) as info:
            await client.retry(GID)
        assert info.value.status_code == 409 and "already succeeded" in info.value.message
        route.return_value = httpx.Response(503)
        with pytest.raises(ServerError):
            await client.retry(GID)


@respx.mock(base_url=HOST)
async def test_retry_percent_encodes_the_id_once(respx_mock: respx.Router) -> None:
    route = respx_mock.post(url__regex=r".*/retry$").respond(json={"generation_id": "n"})
    async with QueueClient(settings()) as client:
        await client.retry("../a?b")
    assert route.calls.last.request.url.raw_path == b"/api/ai/queue/..%2Fa%3Fb/retry"


# -- the Resubmitter ---------------------------------------------------------------------------


def posted(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]


@respx.mock(base_url=HOST, assert_all_called=False)
async def test_resubmit_through_retry_where_the_hub_has_it(respx_mock: respx.Router) -> None:
    retry = respx_mock.post(url__regex=r".*/retry$").respond(json={"generation_id": "new-1"})
    enqueue = respx_mock.post(QUEUE_PATH)
    async with QueueClient(settings()) as client:
        resubmitter = Resubmitter(client)
        assert resubmitter.retry_supported is None
        done = await resubmitter.resubmit(parse_generation(failed_row()))
        assert resubmitter.retry_supported is True
    assert (done.old_id, done.new_ids, done.via, done.body) == (GID, ("new-1",), "retry", None)
    assert retry.call_count == 1 and enqueue.call_count == 0


@respx.mock(base_url=HOST)
async def test_no_retry_endpoint_falls_back_to_enqueue_and_remembers(
    respx_mock: respx.Router,
) -> None:
    retry = respx_mock.post(url__regex=r".*/retry$").respond(404)
    enqueue = respx_mock.post(QUEUE_PATH)
    enqueue.side_effect = [
        httpx.Response(200, json={"generations": [{"generation_id": "new-1"}]}),
        httpx.Response(200, json={"generations": [{"generation_id": "new-2"}]}),
    ]
    async with QueueClient(settings()) as client:
        resubmitter = Resubmitter(client)
        first = await resubmitter.resubmit(parse_generation(failed_row()))
        assert resubmitter.retry_supported is False
        second = await resubmitter.resubmit(
            parse_generation(failed_row(generation_id="other", status="cancelled"))
        )
    assert retry.call_count == 1  # not asked again this session
    assert (first.via, first.new_ids, second.new_ids) == ("enqueue", ("new-1",), ("new-2",))
    bodies = posted(enqueue)
    assert bodies[0] == first.body == resubmit_body(parse_generation(failed_row()))
    assert not HUB_SET & bodies[0].keys()


@respx.mock(base_url=HOST)
async def test_concurrent_resubmits_probe_the_retry_endpoint_once(
    respx_mock: respx.Router,
) -> None:
    retry = respx_mock.post(url__regex=r".*/retry$").respond(405)
    respx_mock.post(QUEUE_PATH).respond(json={"generations": [{"generation_id": "n"}]})
    rows = [parse_generation(failed_row(generation_id=f"g{i}")) for i in range(3)]
    async with QueueClient(settings()) as client:
        resubmitter = Resubmitter(client)
        done = await asyncio.gather(*(resubmitter.resubmit(r) for r in rows))
    assert retry.call_count == 1
    assert [d.via for d in done] == ["enqueue"] * 3


@respx.mock(base_url=HOST)
async def test_a_failed_probe_is_not_taken_for_an_answer(respx_mock: respx.Router) -> None:
    retry = respx_mock.post(url__regex=r".*/retry$")
    retry.side_effect = [httpx.Response(503), httpx.Response(200, json={"generation_id": "n"})]
    async with QueueClient(settings()) as client:
        resubmitter = Resubmitter(client)
        with pytest.raises(ServerError):
            await resubmitter.resubmit(parse_generation(failed_row()))
        assert resubmitter.retry_supported is None
        done = await resubmitter.resubmit(parse_generation(failed_row()))
    assert done.via == "retry"


@respx.mock(base_url=HOST, assert_all_called=False)
async def test_rows_that_cannot_be_resubmitted_send_nothing(respx_mock: respx.Router) -> None:
    retry = respx_mock.post(url__regex=r".*/retry$").respond(404)
    enqueue = respx_mock.post(QUEUE_PATH).respond(json={"generations": []})
    async with QueueClient(settings()) as client:
        resubmitter = Resubmitter(client)
        with pytest.raises(NotResubmittableError, match="succeeded"):
            await resubmitter.resubmit(parse_generation(failed_row(status="succeeded")))
        assert retry.call_count == 0
        with pytest.raises(NotResubmittableError, match="prompt"):
            await resubmitter.resubmit(parse_generation(failed_row(prompt=None)))
        assert enqueue.call_count == 0
        # An enqueue answered without a new id is never a success.
        with pytest.raises(BadPayloadError):
            await resubmitter.resubmit(parse_generation(failed_row()))


@respx.mock(base_url=HOST)
async def test_enqueue_body_sends_keys_that_are_not_python_names(
    respx_mock: respx.Router,
) -> None:
    route = respx_mock.post(QUEUE_PATH).respond(json={"generations": [{"generation_id": 7}]})
    async with QueueClient(settings()) as client:
        ids = await client.enqueue_body({"model": "m", "prompt": "p", "self": 1, "a-b": 2})
    assert ids == ["7"]
    assert posted(route) == [{"model": "m", "prompt": "p", "self": 1, "a-b": 2}]


# -- the headless runner -----------------------------------------------------------------------


async def resubmit_ids(*ids: str, **kw: Any) -> tuple[int, list[str], list[str]]:
    out: list[str] = []
    err: list[str] = []
    async with QueueClient(settings()) as client:
        code = await run_resubmit(client, settings(), ids, out=out.append, err=err.append, **kw)
    return code, out, err


@respx.mock(base_url=HOST)
async def test_a_fault_while_sending_stops_the_run_after_what_was_done(
    respx_mock: respx.Router,
) -> None:
    ids = ["g1", "g2", "g3"]
    respx_mock.get(url__regex=r".*/api/ai/queue/g\d$").mock(
        side_effect=lambda request: httpx.Response(
            200, json=failed_row(generation_id=request.url.path.rsplit("/", 1)[1])
        )
    )
    retry = respx_mock.post(url__regex=r".*/retry$")
    retry.side_effect = [
        httpx.Response(200, json={"generation_id": "new-1"}),
        httpx.Response(504),
    ]
    code, out, err = await resubmit_ids(*ids)
    assert (code, out) == (6, ["new-1"])
    assert err == [
        "queue-tui: resubmitting g2: hub error 504; it may have been resubmitted all the "
        "same (1 more not sent)"
    ]
    assert retry.call_count == 2
    retry.side_effect = [
        httpx.Response(200, json={"generation_id": "new-1"}),
        httpx.Response(504),
    ]
    code, out, err = await resubmit_ids(*ids, as_json=True)
    document = json.loads(out[0])
    assert [g["outcome"] for g in document["generations"]] == ["resubmitted", "error", "not_sent"]
    assert document["exit_code"] == code == 6 and len(err) == 1


@respx.mock(base_url=HOST)
async def test_a_refusal_by_the_hub_is_that_id_alone(respx_mock: respx.Router) -> None:
    respx_mock.get(url__regex=r".*/api/ai/queue/g\d$").mock(
        side_effect=lambda request: httpx.Response(
            200, json=failed_row(generation_id=request.url.path.rsplit("/", 1)[1])
        )
    )
    respx_mock.post(url__regex=r".*/retry$").respond(404)
    enqueue = respx_mock.post(QUEUE_PATH)
    enqueue.side_effect = [
        httpx.Response(422, json={"error": {"title": "unknown model"}}),
        httpx.Response(200, json={"generations": [{"generation_id": "new-2"}]}),
    ]
    code, out, err = await resubmit_ids("g1", "g2")
    assert (code, out) == (1, ["new-2"])
    assert err == [
        "queue-tui: g1 not resubmitted: the hub refused it: request rejected (422): unknown model"
    ]
