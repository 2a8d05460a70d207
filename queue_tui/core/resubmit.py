"""Resubmitting a failed or cancelled generation: the dashboard's and `queue-tui resubmit`'s
one rule.

Newer hubs retry a generation themselves (`POST /api/ai/queue/{id}/retry`: a new row
linked by `retried_from_id`). The hub of our spec has only `POST /api/ai/queue`, so there
a resubmit enqueues the original request again, rebuilt from the row (`resubmit_body`).
A `Resubmitter` asks the retry endpoint first and, once the hub has said it has none
(404/405/501), enqueues for the rest of the session.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Literal

from queue_tui.api.client import QueueClient
from queue_tui.api.errors import BadPayloadError, QueueError
from queue_tui.api.models import Generation, Status
from queue_tui.sanitize import clean

#: The statuses a generation can be resubmitted from (the hub refuses a retry once
#: succeeded; one in flight is cancelled, not resubmitted).
RESUBMITTABLE: frozenset[str] = frozenset({Status.FAILED.value, Status.CANCELLED.value})

#: The request parameters of the spec's enqueue body, in the order a body lists them;
#: the target comes last (`TARGET_KEYS`), model-specific extras in between, by name.
REQUEST_KEYS = ("model", "prompt", "seed", "aspect_ratio", "duration")
TARGET_KEYS = ("target_namespace", "target_repo", "target_directory")

#: Row fields the hub sets itself, never part of a request: the spec's row, the history's
#: additions, the event stream's names for the same things, and the retry link. `model`
#: is the older shape's name of `model_name` (the body's `model` comes from that).
#: `num_generations` is the original request's batch size: one row resubmitted is one
#: generation, never the whole batch again.
HUB_SET_FIELDS = frozenset(
    {
        "generation_id",
        "id",
        "model",
        "model_name",
        "media_type",
        "status",
        "error_message",
        "error",
        "result_url",
        "url",
        "cost",
        "user_id",
        "username",
        "user_image",
        "retried_from_id",
        "num_generations",
        "invalid_fields",
    }
)


def hub_set(name: str) -> bool:
    """Whether a row field is one the hub set rather than a request parameter.

    The docs say the original request's parameters are merged into each row, so what is
    left of a row after the hub's own fields is the request. Beyond the known names
    (`HUB_SET_FIELDS`), a name of a shape only the hub uses counts as its own too:
    timestamps (`*_at`: enqueued_at, updated_at...), user fields (`user_*`) and charges
    (`cost_*`, `*_cost`). Anything else the hub adds is sent back (a model-specific
    parameter cannot be told from it by name); an unknown parameter costs nothing where
    models check their parameters only when they run."""
    return (
        name in HUB_SET_FIELDS
        or name.endswith("_at")
        or name.startswith(("user_", "cost_"))
        or name.endswith("_cost")
    )


def can_resubmit(gen: Generation) -> bool:
    """Failed or cancelled (as the hub said, or as the `status=` list it came from)."""
    return gen.status in RESUBMITTABLE


def status_refusal(gen: Generation) -> str:
    """Why a row of another status is not resubmitted, in words."""
    status = clean(gen.status, max_len=20).replace("_", " ")
    state = "it succeeded" if gen.status == Status.SUCCEEDED else f"it is {status}"
    return f"{state} (only failed or cancelled generations can be resubmitted)"


def rebuild_problem(gen: Generation) -> str | None:
    """Why the enqueue body cannot be rebuilt faithfully from this row, or None. The
    model and the prompt are required; a target part the hub garbled would send the
    result somewhere else."""
    bad = gen.invalid_fields
    if "model_name" not in gen.model_fields_set or "model_name" in bad:
        return "the row has no usable model name"
    if not gen.prompt or "prompt" in bad:
        return "the row has no usable prompt"
    garbled = [name for name in TARGET_KEYS if name in bad]
    if garbled:
        return f"the row's {garbled[0]} came with a value of the wrong type"
    return None


def resubmit_body(gen: Generation) -> dict[str, Any]:
    """The `POST /api/ai/queue` body rebuilt from the row: `model` (from the row's model
    name), `prompt`, every request parameter the row carries (seed, aspect_ratio,
    duration, model-specific extras, by name), then the target. Never a field the hub set
    (`hub_set`), never a null (a parameter not given is left to the hub's default).
    Never raises: see `rebuild_problem` for whether the body is faithful."""
    params = gen.params
    body: dict[str, Any] = {"model": gen.model_name}
    if gen.prompt is not None:
        body["prompt"] = gen.prompt
    for key in REQUEST_KEYS[2:]:
        if params.get(key) is not None:
            body[key] = params[key]
    extras = sorted(
        key
        for key, value in params.items()
        if value is not None and key not in body and key not in TARGET_KEYS and not hub_set(key)
    )
    for key in extras:
        body[key] = params[key]
    for key in TARGET_KEYS:
        value = getattr(gen, key)
        if value is not None:
            body[key] = value
    return body


class NotResubmittableError(QueueError):
    """A row that cannot be resubmitted (its status, or a body that cannot be rebuilt);
    nothing was sent for it."""

    kind = "not_resubmittable"
    exit_code = 1

    def __init__(self, generation_id: str, reason: str) -> None:
        super().__init__(f"{clean(generation_id, max_len=80)} not resubmitted: {reason}")
        #: Why, without the id: "it is succeeded (only failed or cancelled ...)".
        self.reason = clean(reason, max_len=200)


@dataclass(frozen=True)
class Resubmitted:
    old_id: str
    new_ids: tuple[str, ...]
    via: Literal["retry", "enqueue"]
    #: What was POSTed to /api/ai/queue (None via retry).
    body: dict[str, Any] | None


class Resubmitter:
    """Resubmits generations for one session (a dashboard run, one command)."""

    def __init__(self, client: QueueClient) -> None:
        self.client = client
        #: None until asked; False for the rest of the session after the retry endpoint
        #: answered 404/405/501; True after it worked.
        self.retry_supported: bool | None = None
        self._probe: asyncio.Lock | None = None

    async def resubmit(self, gen: Generation) -> Resubmitted:
        """Through the retry endpoint where the hub has it, else `POST /api/ai/queue`
        with `resubmit_body(gen)`. Raises `QueueError` (`NotResubmittableError` when
        nothing was sent); never returns without a new id."""
        gid = gen.generation_id
        if not can_resubmit(gen):
            raise NotResubmittableError(gid, status_refusal(gen))
        if self.retry_supported is None:
            # The first asks alone: resubmits started together do not all probe a hub
            # that has no retry endpoint.
            if self._probe is None:
                self._probe = asyncio.Lock()
            async with self._probe:
                if self.retry_supported is None:
                    return await self._retry_or_enqueue(gen)
        return await self._retry_or_enqueue(gen)

    async def _retry_or_enqueue(self, gen: Generation) -> Resubmitted:
        gid = gen.generation_id
        if self.retry_supported is not False:
            ids = await self.client.retry(gid)
            if ids is not None:
                self.retry_supported = True
                return Resubmitted(gid, tuple(ids), "retry", None)
            self.retry_supported = False
        problem = rebuild_problem(gen)
        if problem is not None:
            raise NotResubmittableError(gid, problem)
        body = resubmit_body(gen)
        ids = await self.client.enqueue_body(body)
        if not ids:
            raise BadPayloadError("the hub took the request but named no new generation id")
        return Resubmitted(gid, tuple(ids), "enqueue", body)


__all__ = [
    "HUB_SET_FIELDS",
    "RESUBMITTABLE",
    "NotResubmittableError",
    "Resubmitted",
    "Resubmitter",
    "can_resubmit",
    "hub_set",
    "rebuild_problem",
    "resubmit_body",
    "status_refusal",
]
