"""A deterministic, event-driven simulator of a busy Oxen.ai render queue.

Everything random is drawn from ``random.Random(seed)``, so the same seed and the same
clock readings give identical rows, ids and timestamps.  The background workload (the
other users of the hub) is path independent: advancing in one jump of an hour or in
3600 one-second steps produces the same rows.  Rows enqueued through :meth:`enqueue`
draw from a separate seeded generator so they never perturb the background stream.

The simulation is event driven (arrivals, completions and cancellations sit in a heap
ordered by time), so jumping far ahead is cheap.  It never imports Textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import heapq
import itertools
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "ACTIVE_STATUSES",
    "DEFAULT_MODELS",
    "HISTORY_ORDER",
    "MEDIA_TYPES",
    "ROW_SHAPES",
    "STATUSES",
    "TERMINAL_STATUSES",
    "ModelSpec",
    "QueueSimulator",
    "RetryRefused",
]

STATUSES = ("queued", "processing", "succeeded", "failed", "cancelled")
ACTIVE_STATUSES = frozenset({"queued", "processing"})
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
MEDIA_TYPES = ("image", "video")
#: How rows are rendered: "spec" (the OpenAPI spec's row) or "old" (the shape the docs
#: page shows: `model`, no `status`, no result URL or error; see `_Row.to_dict`).
ROW_SHAPES = ("spec", "old")

HUB_URL = "https://hub.oxen.ai"

#: The embedded hub of `--demo` (in-process, seen by no other client, gone with the
#: dashboard) keeps finished rows this long, not the real hub's 24 h: as far back as the
#: dashboard's statistics look (30 min; its finished rows linger 10), and as long as the
#: warm-up, so it starts as full as it stays. 24 h is ~50,000 rows: ~35 MB of the
#: dashboard's own memory, all of them in every `status=` list the dashboard asks for.
EMBEDDED_RETENTION = 1800.0
#: ...and at most this many (the default workload finishes ~1,500 rows in 30 min).
EMBEDDED_MAX_TERMINAL = 5_000

#: The history's order (`history`): newest first by `enqueued_at` as served (whole
#: seconds), ties by `generation_id`, both descending. A total order, so a page is the same
#: rows every time until rows arrive, and rows arrive only at its head.
HISTORY_ORDER = "enqueued_at descending, then generation_id descending"
#: A video row without a duration is charged as this many seconds.
_DEFAULT_VIDEO_SECONDS = 5
_ZERO_COST = Decimal("0.00")

# Error timing hints: when, within a row's processing time, the failure happens.
_EARLY, _MID, _LATE, _TIMEOUT = "early", "mid", "late", "timeout"


@dataclass(frozen=True)
class ModelSpec:
    """A model served by the simulated hub."""

    name: str
    media_type: str
    runtime: tuple[float, float]  # (min, max) seconds for a successful run
    slots: int  # worker slots: how many rows process concurrently
    load: float = 0.0  # average utilisation the background workload aims for
    fail_rate: float = 0.08
    aspect_ratios: tuple[str, ...] = ("1:1", "16:9", "9:16", "4:3", "3:2")
    durations: tuple[int, ...] = ()  # video clip lengths in seconds
    errors: tuple[tuple[str, str, float], ...] = ()  # (template, timing, weight)
    # Prices as the hub writes them (decimal strings; `GET /api/ai/models/{id}`). A row
    # is charged when it succeeds: an image `cost_per_image`, a video `cost_per_second`
    # times its duration; failed, cancelled and unfinished rows cost 0.00.
    cost_per_image: str | None = None
    cost_per_second: str | None = None
    cost_per_second_with_audio: str | None = None
    cost_per_second_high_res: str | None = None

    def charge(self, media_type: str, duration: float | None) -> Decimal:
        """What one successful row costs, exactly."""
        if media_type == "video":
            seconds = Decimal(str(duration or _DEFAULT_VIDEO_SECONDS))
            return Decimal(self.cost_per_second or "0.00") * seconds
        return Decimal(self.cost_per_image or "0.00")

    @property
    def mean_runtime(self) -> float:
        lo, hi = self.runtime
        mode = lo + (hi - lo) * 0.35
        mean = (lo + hi + mode) / 3.0
        if self.durations:
            mean *= sum(_duration_factor(d) for d in self.durations) / len(self.durations)
        return mean


def _duration_factor(duration: float | None) -> float:
    if not duration:
        return 1.0
    return 0.75 + 0.05 * float(duration)


_OOM = (
    "CUDA out of memory. Tried to allocate {gib} GiB (GPU 0; 79.15 GiB total capacity; "
    "{used} GiB already allocated; {free} MiB free; {reserved} GiB reserved in total by PyTorch)"
)
_POLICY = "Content policy violation: prompt was flagged by the safety filter"
_TIMEOUT_MSG = "Upstream provider timeout after 300s"
_TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/srv/worker/oxen_worker/runner.py", line 214, in run_generation\n'
    "    output = pipeline(**params)\n"
    '  File "/srv/worker/oxen_worker/pipelines/{module}.py", line {line}, in __call__\n'
    "    latents = self.scheduler.step(noise_pred, t, latents).prev_sample\n"
    '  File "/usr/local/lib/python3.11/site-packages/diffusers/schedulers/'
    'scheduling_flow_match_euler_discrete.py", line 457, in step\n'
    "    prev_sample = sample + (sigma_next - sigma) * model_output\n"
    "RuntimeError: The size of tensor a (4096) must match the size of tensor b ({other}) "
    "at non-singleton dimension 1"
)

_IMAGE_ERRORS: tuple[tuple[str, str, float], ...] = (
    (_OOM, _MID, 3.0),
    (_POLICY, _EARLY, 3.0),
    (
        "Worker lost connection to GPU node gpu-{node}.us-east-1 (heartbeat timeout after 60s)",
        _MID,
        1.0,
    ),
    (_TRACEBACK, _LATE, 0.6),
)
_VIDEO_ERRORS: tuple[tuple[str, str, float], ...] = (
    (_TIMEOUT_MSG, _TIMEOUT, 3.0),
    (_POLICY, _EARLY, 2.0),
    ("Provider returned 503: model is overloaded, please retry later", _EARLY, 1.5),
    (
        "Video encoding failed: ffmpeg exited with status 1 "
        "(Invalid data found when processing input)",
        _LATE,
        1.0,
    ),
    (_TRACEBACK, _LATE, 0.4),
)

DEFAULT_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "flux-1-dev",
        "image",
        (8.0, 20.0),
        slots=3,
        load=0.85,
        fail_rate=0.085,
        cost_per_image="0.025",
        errors=(
            ("LoRA weights not found: ox/product-shots/loras/{lora}.safetensors", _EARLY, 1.0),
        ),
    ),
    ModelSpec(
        "flux-1-schnell",
        "image",
        (2.0, 5.0),
        slots=1,
        load=0.6,
        fail_rate=0.07,
        cost_per_image="0.0035",
        errors=(("num_inference_steps must be <= 4 for flux-1-schnell (got 28)", _EARLY, 1.0),),
    ),
    ModelSpec(
        "sdxl-turbo",
        "image",
        (1.5, 4.0),
        slots=1,
        load=0.5,
        fail_rate=0.07,
        cost_per_image="0.002",
        aspect_ratios=("1:1", "4:3", "3:4"),
        errors=(
            (
                "Requested 1024x1792 exceeds the maximum resolution for sdxl-turbo (1024x1024)",
                _EARLY,
                1.0,
            ),
        ),
    ),
    ModelSpec(
        "imagen-4",
        "image",
        (6.0, 14.0),
        slots=2,
        load=0.8,
        fail_rate=0.09,
        cost_per_image="0.04",
        aspect_ratios=("1:1", "16:9", "9:16", "4:3", "3:4"),
        errors=(
            ("Invalid aspect_ratio '21:9' for model imagen-4", _EARLY, 2.0),
            (
                "Imagen API error 400: The prompt could not be processed. "
                "Try rephrasing the prompt.",
                _EARLY,
                1.0,
            ),
        ),
    ),
    ModelSpec(
        "kling-v2-master",
        "video",
        (60.0, 150.0),
        slots=3,
        load=1.0,
        fail_rate=0.12,
        cost_per_second="0.07",
        cost_per_second_high_res="0.14",
        aspect_ratios=("16:9", "9:16", "1:1"),
        durations=(5, 10),
        errors=(
            ("Kling API error 1303: parallel task limit exceeded for account", _EARLY, 1.5),
            (
                "Image-to-video source frame could not be downloaded: 403 Forbidden",
                _EARLY,
                1.0,
            ),
        ),
    ),
    ModelSpec(
        "veo-3-fast",
        "video",
        (30.0, 75.0),
        slots=2,
        load=0.9,
        fail_rate=0.11,
        cost_per_second="0.15",
        cost_per_second_with_audio="0.40",
        aspect_ratios=("16:9", "9:16"),
        durations=(8,),
        errors=(
            ("Veo generation blocked: output flagged by the audio safety classifier", _LATE, 1.0),
        ),
    ),
    ModelSpec(
        "wan-2.1-t2v",
        "video",
        (90.0, 240.0),
        slots=2,
        load=1.05,
        fail_rate=0.13,
        cost_per_second="0.05",
        aspect_ratios=("16:9", "9:16", "1:1"),
        durations=(5,),
        errors=(
            (
                "NCCL error: unhandled system error, NCCL version 2.21.5 (rank {rank} of 8)",
                _MID,
                1.0,
            ),
            (_OOM, _MID, 1.0),
        ),
    ),
)

_NAMESPACES = ("ox", "acme-studio", "lumen")
_REPOS = ("product-shots", "storyboards", "training-data")
_FOLDERS = ("renders/2026-11", "drafts", None)
_BATCH_SIZES = (1, 2, 3, 4)
# Cumulative weights for `rng.choices(..., cum_weights=)`: the same draws as the plain
# weights (video repos 1, 5, 1; image repos 5, 2, 2; folders 5, 3, 2; batch sizes
# 88, 8, 2, 2 for video and 60, 20, 10, 10 for images), without re-summing each call.
_VIDEO_REPO_CUM = (1, 6, 7)
_IMAGE_REPO_CUM = (5, 7, 9)
_FOLDER_CUM = (5, 8, 10)
_VIDEO_BATCH_CUM = (88, 96, 98, 100)
_IMAGE_BATCH_CUM = (60, 80, 90, 100)

_IMAGE_SUBJECTS = (
    "a matte black espresso machine on a walnut counter",
    "a pair of white running sneakers floating on a pastel background",
    "portrait of an elderly fisherman in a yellow raincoat",
    "an isometric cutaway of a cozy two-story cabin in winter",
    "a steaming bowl of tonkotsu ramen, overhead shot",
    "a glass perfume bottle surrounded by pink peonies",
    "a red fox sitting in fresh snow at dawn",
    "a smartwatch with a teal silicone strap on slate",
    "a neon-lit Tokyo alley after the rain",
    "a ceramic vase with dried pampas grass against a linen wall",
    "an astronaut tending tomato plants in a greenhouse on Mars",
    "a vintage film camera on a stack of travel journals",
    "a minimalist living room with a terracotta sofa",
    "a hand-drawn map of an imaginary archipelago",
)
_IMAGE_STYLES = (
    "studio lighting, 85mm, f/1.8",
    "soft morning light, shallow depth of field",
    "cinematic, volumetric fog",
    "flat lay, high key",
    "watercolor illustration",
    "hyperrealistic, 8k, ultra detailed",
    "35mm film grain, Kodak Portra 400",
    "clean white background, e-commerce product photo",
)
_VIDEO_SUBJECTS = (
    "a slow dolly shot toward a lighthouse during a storm",
    "a barista pouring latte art in slow motion",
    "a drone flyover of terraced rice fields at sunrise",
    "a paper boat drifting down a rain-soaked gutter",
    "a skateboarder kickflipping over a bench, tracking shot",
    "waves crashing on a black sand beach at golden hour",
    "a chef flambeing a pan in a busy restaurant kitchen",
    "a cat batting at snowflakes through a frosted window",
    "a product turntable of a wireless headphone set",
)
_VIDEO_STYLES = (
    "handheld, 24fps",
    "cinematic, anamorphic lens flare",
    "static tripod shot",
    "smooth gimbal movement",
    "shot on 16mm film",
)
_LORAS = ("brand-style-v3", "product-lighting", "acme-mascot-v2", "film-look")
#: Who enqueued a row (the history's user fields): picked by the row's id, so no memory.
_USERS = (
    ("u_1042", "maya"),
    ("u_2211", "jonas"),
    ("u_0007", "render-bot"),
    ("u_3150", "priya"),
    ("u_0421", "sam"),
)
_MODULES = {"image": ("flux", "sdxl", "imagen"), "video": ("wan_video", "kling", "veo")}

# Row fields known to the spec / the simulator (extras from POST bodies never override them).
_CORE_FIELDS = frozenset(
    {
        "generation_id",
        "model_name",
        "media_type",
        "status",
        "enqueued_at",
        "started_at",
        "completed_at",
        "error_message",
        "result_url",
        "target_namespace",
        "target_repo",
        "target_directory",
        "prompt",
        "seed",
        "aspect_ratio",
        "duration",
    }
)
_BODY_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "num_generations",
        "target_namespace",
        "target_repo",
        "target_directory",
        "seed",
        "aspect_ratio",
        "duration",
        "media_type",
    }
)

# Fields a hub adds to rows beyond the spec's (never part of a request).
_HUB_FIELDS = frozenset(
    {"model_name", "cost", "user_id", "username", "user_image", "retried_from_id"}
)

# uuid.UUID(version=4): variant bits 10 (RFC 4122), version nibble 4.
_UUID4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID4_SET = (0x8000 << 48) | (4 << 76)

# Event kinds in the heap. Ordering among equal times is by insertion sequence.
_ARRIVAL, _BURST, _FINISH, _CANCEL = 0, 1, 2, 3


class _Row:
    """Internal mutable row; rendered to a spec-shaped dict by :meth:`to_dict`."""

    __slots__ = (
        "aspect_ratio",
        "cancel_at",
        "completed",
        "duration",
        "enqueued",
        "error",
        "extras",
        "fail_error",
        "folder",
        "id",
        "media_type",
        "model",
        "namespace",
        "outcome",
        "prompt",
        "repo",
        "retried_from",
        "run_for",
        "seed",
        "seed_given",
        "started",
        "status",
    )

    def __init__(
        self,
        *,
        id: str,
        model: str,
        media_type: str,
        status: str,
        enqueued: float,
        namespace: str | None,
        repo: str | None,
        folder: str | None,
        prompt: str,
        seed: int,
        aspect_ratio: str | None,
        duration: float | None,
        run_for: float,
        outcome: str,
        fail_error: str | None,
        extras: dict[str, Any] | None = None,
        seed_given: bool = True,
    ) -> None:
        # Plain assignments (not a loop of setattr): the warm-up makes ~1,400 rows.
        self.id = id
        self.model = model
        self.media_type = media_type
        self.status = status
        self.enqueued = enqueued
        self.namespace = namespace
        self.repo = repo
        self.folder = folder
        self.prompt = prompt
        self.seed = seed
        self.seed_given = seed_given
        self.aspect_ratio = aspect_ratio
        self.duration = duration
        self.run_for = run_for
        self.outcome = outcome
        self.fail_error = fail_error
        self.extras = extras
        self.started: float | None = None
        self.completed: float | None = None
        self.error: str | None = None
        self.cancel_at: float | None = None
        #: The generation this one retries (`POST /api/ai/queue/{id}/retry`).
        self.retried_from: str | None = None

    @property
    def user(self) -> tuple[str, str]:
        """(user_id, username) of whoever enqueued it: picked by the id (uuid hex)."""
        return _USERS[int(self.id[:8], 16) % len(_USERS)]

    @property
    def result_url(self) -> str | None:
        if self.status != "succeeded":
            return None
        ext = "mp4" if self.media_type == "video" else "png"
        short = self.id[:8]
        if self.namespace and self.repo:
            folder = f"{self.folder}/" if self.folder else ""
            return (
                f"{HUB_URL}/api/repos/{self.namespace}/{self.repo}/file/main/{folder}{short}.{ext}"
            )
        return f"{HUB_URL}/api/ai/generations/{self.id}/output.{ext}"

    def to_dict(self, shape: str = "spec") -> dict[str, Any]:
        if shape == "old":
            return self._old_dict()
        row: dict[str, Any] = {
            "generation_id": self.id,
            "model_name": self.model,
            "media_type": self.media_type,
            "status": self.status,
            "enqueued_at": int(self.enqueued),
            "started_at": None if self.started is None else int(self.started),
            "completed_at": None if self.completed is None else int(self.completed),
            "error_message": self.error,
            "result_url": self.result_url,
            "target_namespace": self.namespace,
            "target_repo": self.repo,
            "target_directory": self.folder,
            "prompt": self.prompt,
            "seed": self.seed,
            "aspect_ratio": self.aspect_ratio,
        }
        if self.media_type == "video" or self.duration is not None:
            row["duration"] = self.duration
        if self.retried_from is not None:
            row["retried_from_id"] = self.retried_from
        if self.extras:
            for key, value in self.extras.items():
                row.setdefault(key, value)
        return row

    def request(self) -> dict[str, Any]:
        """What was asked for (as `QueueSimulator.retry` uses it)."""
        return {
            "model": self.model,
            "prompt": self.prompt,
            "target": (self.namespace, self.repo, self.folder),
            "seed": self.seed,
            "aspect_ratio": self.aspect_ratio,
            "duration": self.duration,
            "media_type": self.media_type,
            "extras": self.extras,
        }

    def _old_dict(self) -> dict[str, Any]:
        """The docs page's older row: `model` for `model_name`, no `status` (a listed row
        is simply in progress, whichever list it is in), no result URL or error (those
        come only on the event stream), `prompt` always, and `seed`, `aspect_ratio`,
        `duration` only when the request gave them."""
        row: dict[str, Any] = {
            "generation_id": self.id,
            "model": self.model,
            "media_type": self.media_type,
            "enqueued_at": int(self.enqueued),
            "started_at": None if self.started is None else int(self.started),
            "completed_at": None if self.completed is None else int(self.completed),
            "target_namespace": self.namespace,
            "target_repo": self.repo,
            "target_directory": self.folder,
            "prompt": self.prompt,
        }
        if self.seed_given:
            row["seed"] = self.seed
        if self.aspect_ratio is not None:
            row["aspect_ratio"] = self.aspect_ratio
        if self.duration is not None:
            row["duration"] = self.duration
        if self.retried_from is not None:
            row["retried_from_id"] = self.retried_from
        if self.extras:
            for key, value in self.extras.items():
                row.setdefault(key, value)
        return row


@dataclass
class _ModelState:
    spec: ModelSpec
    rate: float = 0.0  # requests per second (before modulation)
    phases: tuple[float, float] = (0.0, 0.0)
    periods: tuple[float, float] = (900.0, 3600.0)
    queue: deque[_Row] = field(default_factory=deque)
    running: int = 0


@dataclass
class _Subscriber:
    queue: asyncio.Queue[dict[str, Any]]
    loop: asyncio.AbstractEventLoop | None


class QueueSimulator:
    """A deterministic simulation of the hub's render queue.

    Parameters
    ----------
    seed:
        Seed for every random draw.
    clock:
        Returns the current unix time in seconds; :meth:`advance` moves the
        simulation up to it.
    warmup:
        Seconds of history simulated on construction, ending at ``clock()``.
    arrival_rate:
        Background requests per second (each request is 1-4 rows).  ``None`` picks a
        rate that keeps every model busy and a few of them backlogged.
    retention:
        Seconds terminal rows stay visible (``status=`` filters) before being dropped.
    max_terminal:
        Hard cap on retained terminal rows (oldest dropped first) to bound memory.
    max_backlog:
        Background requests for a model are dropped (users give up) while that model
        already has this many queued rows.
    """

    MODULATION = (0.35, 0.25)  # amplitudes of the two sine waves shaping demand
    BURST_INTERVAL = 420.0  # mean seconds between bulk enqueues (dataset jobs)
    CANCEL_INTENT = 0.1  # share of background rows whose owner cancels them later
    EVENT_QUEUE_SIZE = 10_000
    #: Requests kept in `received` (oldest dropped first).
    RECEIVED_CAP = 1_000
    #: Ground-truth outcomes kept for `finished()` (oldest dropped first): far beyond
    #: `retention`, so a test can audit a long run, yet bounded for a hub left running.
    OUTCOMES_CAP = 200_000
    #: Drop ground-truth outcomes with the terminal rows they belong to (embedded hubs).
    outcomes_expire = False

    def __init__(
        self,
        seed: int = 7,
        clock: Callable[[], float] = time.time,
        *,
        warmup: float = 1800.0,
        arrival_rate: float | None = None,
        retention: float = 86400.0,
        models: Iterable[ModelSpec] = DEFAULT_MODELS,
        max_terminal: int = 50_000,
        max_backlog: int = 60,
    ) -> None:
        self.seed = seed
        self._clock = clock
        self.retention = float(retention)
        self.max_terminal = int(max_terminal)
        self.max_backlog = int(max_backlog)
        self._rng = random.Random(seed)
        self._user_rng = random.Random(seed * 1_000_003 + 17)
        self._lock = threading.RLock()
        self._heap: list[tuple[float, int, int, Any]] = []
        self._seq = itertools.count()
        self._active: dict[str, _Row] = {}
        self._terminal: dict[str, _Row] = {}
        self._terminal_order: deque[tuple[float, str]] = deque()
        #: id -> (final status, completion time) of every row this simulation finished,
        #: in completion order; unlike `_terminal`, untouched by `_expire`.
        self._outcomes: dict[str, tuple[str, float]] = {}
        self._injected: dict[str, dict[str, Any]] = {}
        #: What clients sent it, oldest first: `{"endpoint": "enqueue", "body": ...}` (the
        #: body as received, even a bad one) and `{"endpoint": "retry", "generation_id":
        #: ...}`; a test compares a resubmitted request with the original field by field.
        self.received: deque[dict[str, Any]] = deque(maxlen=self.RECEIVED_CAP)
        self._subscribers: list[_Subscriber] = []
        self._pending_events: list[dict[str, Any]] = []
        self._models: dict[str, _ModelState] = {}

        start = float(clock())
        self._now = start - max(0.0, float(warmup))
        #: When the simulation began (before its warm-up): `add_history` ends there.
        self._began = self._now
        #: (model, media type, duration) -> what a successful row of it costs.
        self._charges: dict[tuple[str, str, float | None], Decimal] = {}

        specs = list(models)
        for spec in specs:
            self._models[spec.name] = _ModelState(spec)
        self._configure_rates(specs, arrival_rate)
        self._burst_enabled = arrival_rate is None or arrival_rate > 0
        for name, state in self._models.items():
            if state.rate > 0:
                self._schedule_arrival(name, self._now)
        if self._burst_enabled:
            self._push(self._now + self._rng.expovariate(1.0 / self.BURST_INTERVAL), _BURST, None)

        # Nobody listens during the warm-up: completion events are not even built.
        self._warming = True
        self._run_until(start)
        self._warming = False
        self._expire()
        self._pending_events.clear()

    # ------------------------------------------------------------------ construction

    @classmethod
    def with_active_rows(
        cls,
        n: int,
        seed: int = 7,
        clock: Callable[[], float] = time.time,
        **kwargs: Any,
    ) -> QueueSimulator:
        """A simulator holding ``n`` active rows (for benchmarks).

        Background arrivals are off unless ``arrival_rate`` is passed, so the queue
        stays big: models process their slots' worth of rows, the rest wait.
        """
        kwargs.setdefault("arrival_rate", 0.0)
        kwargs.setdefault("warmup", 0.0)
        kwargs.setdefault("max_backlog", max(60, n))
        sim = cls(seed, clock, **kwargs)
        with sim._lock:
            sim._seed_active_rows(n)
        return sim

    @classmethod
    def with_history(
        cls,
        n: int,
        seed: int = 7,
        clock: Callable[[], float] = time.time,
        *,
        span: float = 72_000.0,
        **kwargs: Any,
    ) -> QueueSimulator:
        """A simulator whose history (`history`) holds exactly ``n`` finished
        generations, enqueued over the ``span`` seconds before ``clock()``: nothing
        arrives or changes by itself (no background workload unless ``arrival_rate``),
        so a test knows every row and every cost, and adds rows when it wants to."""
        kwargs.setdefault("arrival_rate", 0.0)
        kwargs.setdefault("warmup", 0.0)
        kwargs.setdefault("max_terminal", max(50_000, n))
        sim = cls(seed, clock, **kwargs)
        sim.add_history(n, span=span, end=sim.now)
        return sim

    @classmethod
    def embedded(
        cls, seed: int = 7, clock: Callable[[], float] = time.time, **kwargs: Any
    ) -> QueueSimulator:
        """The simulator of the in-process demo hub (`--demo`): bounded for a dashboard
        left open all day (`EMBEDDED_RETENTION`, `EMBEDDED_MAX_TERMINAL`)."""
        kwargs.setdefault("retention", EMBEDDED_RETENTION)
        kwargs.setdefault("max_terminal", EMBEDDED_MAX_TERMINAL)
        sim = cls(seed, clock, **kwargs)
        # Nothing reads the ground truth of an embedded hub: only what it still lists, by
        # time as well as count, so its memory is flat once the retention has filled.
        sim.OUTCOMES_CAP = sim.max_terminal
        sim.outcomes_expire = True
        return sim

    def add_history(self, n: int, *, span: float = 72_000.0, end: float | None = None) -> None:
        """Add ``n`` finished generations (succeeded, failed or cancelled, in the models'
        proportions) enqueued over the ``span`` seconds before ``end`` (default: when
        the simulation began, before its warm-up), as if the hub had run that long.
        Kept as the finished rows are: at most ``max_terminal``, for ``retention``."""
        with self._lock:
            end = self._began if end is None else float(end)
            rng = random.Random(self.seed * 104_729 + n)
            specs = [state.spec for state in self._models.values()]
            weights = [spec.slots * max(spec.load, 0.1) for spec in specs]
            made: list[_Row] = []
            for _ in range(n):
                spec = rng.choices(specs, weights=weights)[0]
                enqueued = end - rng.uniform(1.0, span)
                row = self._random_row(rng, spec, enqueued)
                row.started = min(end, enqueued + rng.uniform(0.5, 90.0))
                row.completed = min(end, row.started + row.run_for)
                if rng.random() < self.CANCEL_INTENT / 3:
                    row.status = "cancelled"
                else:
                    row.status = row.outcome
                    row.error = row.fail_error if row.outcome == "failed" else None
                made.append(row)
            for row in made:
                self._terminal[row.id] = row
            # Finished rows expire oldest first: keep both in completion order.
            merged = [*self._terminal_order, *((r.completed, r.id) for r in made)]
            self._terminal_order = deque(sorted(merged))
            outcomes = {**self._outcomes, **{r.id: (r.status, r.completed) for r in made}}
            self._outcomes = dict(sorted(outcomes.items(), key=lambda kv: kv[1][1]))
            while len(self._outcomes) > self.OUTCOMES_CAP:
                del self._outcomes[next(iter(self._outcomes))]
            self._expire()

    def _configure_rates(self, specs: list[ModelSpec], arrival_rate: float | None) -> None:
        rng = self._rng
        for state in self._models.values():
            spec = state.spec
            mean_batch = 1.15 if spec.media_type == "video" else 1.7
            if spec.load > 0:
                state.rate = spec.load * spec.slots / (spec.mean_runtime * mean_batch)
            state.phases = (rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
            state.periods = (rng.uniform(600.0, 1200.0), rng.uniform(3600.0, 7200.0))
        if arrival_rate is not None:
            total = sum(s.rate for s in self._models.values())
            scale = (float(arrival_rate) / total) if total > 0 else 0.0
            for state in self._models.values():
                state.rate *= scale

    @property
    def default_arrival_rate(self) -> float:
        """Background requests per second (before demand modulation)."""
        return sum(s.rate for s in self._models.values())

    @property
    def models(self) -> dict[str, ModelSpec]:
        return {name: state.spec for name, state in self._models.items()}

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    @property
    def now(self) -> float:
        """The simulation's current time (unix seconds)."""
        return self._now

    # ------------------------------------------------------------------ event engine

    def _push(self, when: float, kind: int, data: Any) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), kind, data))

    def _demand(self, state: _ModelState, t: float) -> float:
        a1, a2 = self.MODULATION
        p1, p2 = state.periods
        f1, f2 = state.phases
        return (
            1.0
            + a1 * math.sin(2 * math.pi * t / p1 + f1)
            + a2 * math.sin(2 * math.pi * t / p2 + f2)
        )

    def _schedule_arrival(self, name: str, after: float) -> None:
        """Next arrival of a non-homogeneous Poisson process (thinning)."""
        state = self._models[name]
        peak = 1.0 + sum(self.MODULATION)
        lam = state.rate * peak
        t = after
        rng = self._rng
        for _ in range(10_000):
            t += rng.expovariate(lam)
            if rng.random() * peak <= self._demand(state, t):
                break
        self._push(t, _ARRIVAL, name)

    def _run_until(self, target: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= target:
            when, _, kind, data = heapq.heappop(heap)
            self._now = max(self._now, when)
            if kind == _ARRIVAL:
                self._background_request(data)
                self._schedule_arrival(data, when)
            elif kind == _FINISH:
                self._finish(data)
            elif kind == _CANCEL:
                row = data
                if row.status in ACTIVE_STATUSES and row.cancel_at == when:
                    self._cancel_row(row)
            elif kind == _BURST:
                self._burst_request()
                self._push(when + self._rng.expovariate(1.0 / self.BURST_INTERVAL), _BURST, None)
        self._now = max(self._now, target)

    def _start_waiting(self, state: _ModelState) -> None:
        while state.queue and state.running < state.spec.slots:
            row = state.queue.popleft()
            row.status = "processing"
            row.started = self._now
            state.running += 1
            self._push(self._now + row.run_for, _FINISH, row)

    def _finish(self, row: _Row) -> None:
        if row.status != "processing" or row.id not in self._active:
            return  # cancelled meanwhile
        row.status = row.outcome
        row.completed = self._now
        if row.outcome == "failed":
            row.error = row.fail_error
        self._retire(row)
        state = self._models[row.model]
        state.running -= 1
        if self._warming:
            self._start_waiting(state)
            return
        if row.status == "succeeded":
            event = {
                "generation_id": row.id,
                "status": "succeeded",
                "media_type": row.media_type,
                "model": row.model,
                "url": row.result_url,
            }
        else:
            event = {
                "generation_id": row.id,
                "status": "failed",
                "media_type": row.media_type,
                "model": row.model,
                "error": row.error,
            }
        self._pending_events.append(event)
        self._start_waiting(state)

    def _cancel_row(self, row: _Row) -> None:
        state = self._models[row.model]
        was = row.status
        row.status = "cancelled"
        row.completed = self._now
        self._retire(row)
        if was == "queued":
            with contextlib.suppress(ValueError):
                state.queue.remove(row)
        else:
            state.running -= 1
            self._start_waiting(state)

    def _retire(self, row: _Row) -> None:
        self._active.pop(row.id, None)
        self._terminal[row.id] = row
        self._terminal_order.append((row.completed, row.id))
        outcomes = self._outcomes
        outcomes[row.id] = (row.status, row.completed)
        if len(outcomes) > self.OUTCOMES_CAP:
            del outcomes[next(iter(outcomes))]

    def _expire(self) -> None:
        cutoff = self._now - self.retention
        order = self._terminal_order
        while order and (order[0][0] < cutoff or len(order) > self.max_terminal):
            _, gid = order.popleft()
            self._terminal.pop(gid, None)
            if self.outcomes_expire:
                self._outcomes.pop(gid, None)

    def _admit(self, row: _Row) -> None:
        state = self._models[row.model]
        self._active[row.id] = row
        state.queue.append(row)
        if row.cancel_at is not None:
            self._push(row.cancel_at, _CANCEL, row)
        self._start_waiting(state)

    # ------------------------------------------------------------------ row generation

    @staticmethod
    def _new_id(rng: random.Random) -> str:
        """`str(uuid.UUID(int=rng.getrandbits(128), version=4))`, formatted directly
        (the same string; about 3x faster, and the warm-up makes ~1,400 ids)."""
        n = (rng.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _pick_target(self, rng: random.Random, media_type: str) -> tuple[str | None, ...]:
        if rng.random() < 0.04:
            return (None, None, None)
        ns = rng.choice(_NAMESPACES)
        if media_type == "video":
            repo = rng.choices(_REPOS, cum_weights=_VIDEO_REPO_CUM)[0]
        else:
            repo = rng.choices(_REPOS, cum_weights=_IMAGE_REPO_CUM)[0]
        folder = rng.choices(_FOLDERS, cum_weights=_FOLDER_CUM)[0]
        return (ns, repo, folder)

    @staticmethod
    def _prompt(rng: random.Random, media_type: str) -> str:
        if media_type == "video":
            return f"{rng.choice(_VIDEO_SUBJECTS)}, {rng.choice(_VIDEO_STYLES)}"
        return f"{rng.choice(_IMAGE_SUBJECTS)}, {rng.choice(_IMAGE_STYLES)}"

    def _error_for(self, rng: random.Random, spec: ModelSpec) -> tuple[str, str]:
        common = _VIDEO_ERRORS if spec.media_type == "video" else _IMAGE_ERRORS
        table = common + spec.errors
        template, timing, _ = rng.choices(table, weights=[w for _, _, w in table])[0]
        gib = rng.choice((1.25, 2.5, 3.75, 5.0, 10.0))
        message = template.format(
            gib=f"{gib:.2f}",
            used=f"{rng.uniform(70.0, 77.5):.2f}",
            free=rng.randint(180, 1900),
            reserved=f"{rng.uniform(76.0, 78.5):.2f}",
            node=rng.randint(1, 48),
            lora=rng.choice(_LORAS),
            rank=rng.randint(0, 7),
            module=rng.choice(_MODULES[spec.media_type]),
            line=rng.randint(80, 420),
            other=rng.choice((4032, 4608, 2048)),
        )
        return message, timing

    def _plan_run(
        self, rng: random.Random, spec: ModelSpec, duration: float | None, forced_error: str | None
    ) -> tuple[float, str, str | None]:
        """(processing seconds, outcome, error message) for one row."""
        lo, hi = spec.runtime
        runtime = rng.triangular(lo, hi, lo + (hi - lo) * 0.35) * _duration_factor(duration)
        if forced_error is not None:
            return rng.uniform(0.2, 1.5), "failed", forced_error
        if rng.random() >= spec.fail_rate:
            return runtime, "succeeded", None
        message, timing = self._error_for(rng, spec)
        if timing == _TIMEOUT:
            run_for = 300.0
        elif timing == _EARLY:
            run_for = rng.uniform(0.3, 2.5)
        elif timing == _MID:
            run_for = runtime * rng.uniform(0.2, 0.7)
        else:
            run_for = runtime * rng.uniform(0.8, 1.0)
        return run_for, "failed", message

    def _make_rows(
        self,
        rng: random.Random,
        spec: ModelSpec,
        count: int,
        *,
        prompt: str,
        target: tuple[str | None, ...],
        seed: int | None,
        aspect_ratio: str | None,
        duration: float | None,
        media_type: str,
        extras: dict[str, Any] | None = None,
        cancel_intent: float = 0.0,
        at: float | None = None,
    ) -> list[_Row]:
        when = self._now if at is None else at
        forced = None
        if aspect_ratio is not None and aspect_ratio not in spec.aspect_ratios:
            forced = f"Invalid aspect_ratio '{aspect_ratio}' for model {spec.name}"
        base_seed = rng.randint(0, 2**32 - 1) if seed is None else seed
        rows = []
        for i in range(count):
            run_for, outcome, error = self._plan_run(rng, spec, duration, forced)
            row = _Row(
                id=self._new_id(rng),
                model=spec.name,
                media_type=media_type,
                status="queued",
                enqueued=when,
                namespace=target[0],
                repo=target[1],
                folder=target[2],
                prompt=prompt,
                seed=base_seed + i,
                aspect_ratio=aspect_ratio,
                duration=duration,
                run_for=run_for,
                outcome=outcome,
                fail_error=error,
                extras=extras,
                seed_given=seed is not None,
            )
            if cancel_intent and rng.random() < cancel_intent:
                row.cancel_at = when + rng.uniform(1.0, 120.0)
            rows.append(row)
        return rows

    def _random_row(self, rng: random.Random, spec: ModelSpec, at: float) -> _Row:
        """One row of `spec`, every choice drawn from `rng`, enqueued `at`."""
        (row,) = self._make_rows(
            rng,
            spec,
            1,
            prompt=self._prompt(rng, spec.media_type),
            target=self._pick_target(rng, spec.media_type),
            seed=None,
            aspect_ratio=rng.choice(spec.aspect_ratios),
            duration=rng.choice(spec.durations) if spec.durations else None,
            media_type=spec.media_type,
            at=at,
        )
        return row

    def _background_request(self, name: str) -> None:
        rng = self._rng
        spec = self._models[name].spec
        video = spec.media_type == "video"
        cum = _VIDEO_BATCH_CUM if video else _IMAGE_BATCH_CUM
        count = rng.choices(_BATCH_SIZES, cum_weights=cum)[0]
        duration = rng.choice(spec.durations) if spec.durations else None
        rows = self._make_rows(
            rng,
            spec,
            count,
            prompt=self._prompt(rng, spec.media_type),
            target=self._pick_target(rng, spec.media_type),
            seed=None,
            aspect_ratio=rng.choice(spec.aspect_ratios),
            duration=duration,
            media_type=spec.media_type,
            cancel_intent=self.CANCEL_INTENT,
        )
        if len(self._models[name].queue) >= self.max_backlog:
            return  # the model is swamped: this user gives up before submitting
        for row in rows:
            self._admit(row)

    def _burst_request(self) -> None:
        """A dataset job: one user enqueues a pile of image rows at once."""
        rng = self._rng
        images = [s.spec for s in self._models.values() if s.spec.media_type == "image"]
        if not images:
            return
        spec = rng.choice(images)
        count = rng.randint(6, 16)
        rows: list[_Row] = []
        ns = rng.choice(_NAMESPACES)
        for _ in range(count // 4 + (1 if count % 4 else 0)):
            rows += self._make_rows(
                rng,
                spec,
                min(4, count - len(rows)),
                prompt=self._prompt(rng, "image"),
                target=(ns, "training-data", "drafts"),
                seed=None,
                aspect_ratio=rng.choice(spec.aspect_ratios),
                duration=None,
                media_type="image",
                cancel_intent=self.CANCEL_INTENT / 2,
            )
        if len(self._models[spec.name].queue) >= self.max_backlog:
            return
        for row in rows:
            self._admit(row)

    def _seed_active_rows(self, n: int) -> None:
        rng = random.Random(self.seed * 7919 + n)
        names = list(self._models)
        weights = [max(s.rate, 0.01) * s.spec.slots for s in self._models.values()]
        times = sorted(self._now - rng.uniform(0.0, 3600.0) for _ in range(n))
        for when in times:
            state = self._models[rng.choices(names, weights=weights)[0]]
            spec = state.spec
            row = self._random_row(rng, spec, when)
            self._active[row.id] = row
            if state.running < spec.slots:
                # Already running: started a little while ago, finishes in the future.
                row.status = "processing"
                row.started = max(when, self._now - row.run_for * rng.uniform(0.05, 0.9))
                state.running += 1
                self._push(row.started + row.run_for, _FINISH, row)
            else:
                state.queue.append(row)

    # ------------------------------------------------------------------ event feed

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        """A queue receiving completion events from now on (lossy, no replay)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=self.EVENT_QUEUE_SIZE)
        with self._lock:
            self._subscribers.append(_Subscriber(q, loop))
        return q

    def unsubscribe(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers = [s for s in self._subscribers if s.queue is not q]

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    @staticmethod
    def _put(q: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            q.put_nowait(event)

    def _deliver(self, events: list[dict[str, Any]]) -> None:
        if not events or not self._subscribers:
            return
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        dead = []
        for sub in self._subscribers:
            for event in events:
                if sub.loop is None or sub.loop is current:
                    self._put(sub.queue, dict(event))
                else:
                    try:
                        sub.loop.call_soon_threadsafe(self._put, sub.queue, dict(event))
                    except RuntimeError:  # loop closed: drop the subscriber
                        dead.append(sub)
                        break
        if dead:
            self._subscribers = [s for s in self._subscribers if s not in dead]

    # ------------------------------------------------------------------ public API

    def advance(self, now: float | None = None) -> None:
        """Run the simulation up to ``now`` (default ``clock()``); never goes back."""
        with self._lock:
            target = float(self._clock()) if now is None else float(now)
            if target > self._now:
                self._run_until(target)
                self._expire()
            events, self._pending_events = self._pending_events, []
            self._deliver(events)

    def list(
        self,
        *,
        namespace: str | None = None,
        model: str | None = None,
        media_type: str | None = None,
        status: str | None = None,
        repo: str | None = None,
        folder: str | None = None,
        shape: str = "spec",
    ) -> list[dict[str, Any]]:
        """Rows matching the filters, ``enqueued_at`` ascending.

        With ``status=None`` only active (queued/processing) rows are returned; an
        explicit status returns rows of that status, terminal ones included. ``shape``
        is one of `ROW_SHAPES` (injected rows are served as they are, in any shape).
        """
        self.advance()
        with self._lock:
            if status is None:
                sources: Iterable[_Row] = self._active.values()
            elif status in ACTIVE_STATUSES:
                sources = (r for r in self._active.values() if r.status == status)
            else:
                sources = (r for r in self._terminal.values() if r.status == status)
            keyed: list[tuple[float, int, dict[str, Any]]] = []
            for i, row in enumerate(sources):
                if (
                    (namespace is None or row.namespace == namespace)
                    and (model is None or row.model == model)
                    and (media_type is None or row.media_type == media_type)
                    and (repo is None or row.repo == repo)
                    and (folder is None or row.folder == folder)
                ):
                    keyed.append((row.enqueued, i, row.to_dict(shape)))
            base = len(keyed)
            for j, raw in enumerate(self._injected.values()):
                if _injected_matches(raw, namespace, model, media_type, status, repo, folder):
                    keyed.append((_time_key(raw.get("enqueued_at")), base + j, dict(raw)))
        keyed.sort(key=lambda item: (item[0], item[1]))
        return [item[2] for item in keyed]

    def get(self, generation_id: str, *, shape: str = "spec") -> dict[str, Any] | None:
        """The row if it is still active (queued/processing), else ``None``."""
        self.advance()
        with self._lock:
            row = self._active.get(generation_id)
            if row is not None:
                return row.to_dict(shape)
            raw = self._injected.get(generation_id)
            if raw is not None and _injected_active(raw):
                return dict(raw)
            return None

    def cancel(self, generation_id: str) -> bool:
        """Cancel an active row; ``False`` if it is finished or unknown."""
        self.advance()
        with self._lock:
            row = self._active.get(generation_id)
            if row is not None:
                self._cancel_row(row)
                return True
            raw = self._injected.get(generation_id)
            if raw is not None and _injected_active(raw):
                raw["status"] = "cancelled"
                raw["completed_at"] = int(self._now)
                return True
            return False

    def enqueue(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """Enqueue rows like ``POST /api/ai/queue``; raises ``ValueError`` on a bad body."""
        with self._lock:
            self.received.append({"endpoint": "enqueue", "body": copy.deepcopy(body)})
        params = _validate_body(body)
        self.advance()
        with self._lock:
            spec = self._spec_for(params["model"], params["media_type"])
            media_type = params["media_type"] or spec.media_type
            extras = {k: v for k, v in body.items() if k not in _BODY_FIELDS | _CORE_FIELDS}
            rows = self._make_rows(
                self._user_rng,
                spec,
                params["num_generations"],
                prompt=params["prompt"],
                target=(
                    params["target_namespace"],
                    params["target_repo"],
                    params["target_directory"],
                ),
                seed=params["seed"],
                aspect_ratio=params["aspect_ratio"],
                duration=params["duration"],
                media_type=media_type,
                extras=extras or None,
            )
            for row in rows:
                self._admit(row)
            return [row.to_dict() for row in rows]

    def retry(self, generation_id: str, *, shape: str = "spec") -> dict[str, Any] | None:
        """``POST /api/ai/queue/{id}/retry`` of a newer hub: "kill and retry". A new row
        with the same request, linked by ``retried_from_id``; an active row is cancelled
        first. ``None`` when the id is unknown (or expired); raises `RetryRefused` once
        it has succeeded."""
        self.advance()
        with self._lock:
            self.received.append({"endpoint": "retry", "generation_id": generation_id})
            row = self._active.get(generation_id) or self._terminal.get(generation_id)
            if row is not None:
                if row.status == "succeeded":
                    raise RetryRefused(f"Generation {generation_id} already succeeded")
                if row.status in ACTIVE_STATUSES:
                    self._cancel_row(row)
                request = row.request()
            else:
                raw = self._injected.get(generation_id)
                if raw is None:
                    return None
                if raw.get("status") == "succeeded":
                    raise RetryRefused(f"Generation {generation_id} already succeeded")
                request = _injected_request(raw)
                if request is None:
                    raise RetryRefused(f"Generation {generation_id} has no request to retry")
                if _injected_active(raw):
                    raw["status"] = "cancelled"
                    raw["completed_at"] = int(self._now)
            spec = self._spec_for(request["model"], request["media_type"])
            (new,) = self._make_rows(
                self._user_rng,
                spec,
                1,
                prompt=request["prompt"],
                target=request["target"],
                seed=request["seed"],
                aspect_ratio=request["aspect_ratio"],
                duration=request["duration"],
                media_type=request["media_type"] or spec.media_type,
                extras=request["extras"],
            )
            new.retried_from = generation_id
            self._admit(new)
            return new.to_dict(shape)

    def lookup(self, generation_id: str, *, shape: str = "spec") -> dict[str, Any] | None:
        """Any generation it still keeps, finished or not (``GET /api/ai/generations/{id}``),
        as the history has it (with its cost and user), else ``None``."""
        self.advance()
        with self._lock:
            row = self._active.get(generation_id) or self._terminal.get(generation_id)
            if row is not None:
                return self._history_dict(row, shape)
            raw = self._injected.get(generation_id)
            return None if raw is None else dict(raw)

    # ------------------------------------------------------------------ history and prices

    def cost(self, row: _Row) -> Decimal:
        """What a row cost: its model's price when it succeeded (`ModelSpec.charge`),
        0.00 otherwise."""
        if row.status != "succeeded":
            return _ZERO_COST
        key = (row.model, row.media_type, row.duration)
        charge = self._charges.get(key)
        if charge is None:
            spec = self._models[row.model].spec
            charge = self._charges[key] = spec.charge(row.media_type, row.duration)
        return charge

    def _history_dict(self, row: _Row, shape: str) -> dict[str, Any]:
        out = row.to_dict(shape)
        user_id, username = row.user
        # The hub's own fields win over a request's extras of the same name.
        out["cost"] = format(self.cost(row), "f")
        out["user_id"] = user_id
        out["username"] = username
        out["user_image"] = f"{HUB_URL}/avatars/{username}.png"
        return out

    def history(
        self,
        *,
        namespace: str | None = None,
        model: str | None = None,
        media_type: str | None = None,
        status: str | None = None,
        repo: str | None = None,
        folder: str | None = None,
        page: int = 1,
        page_size: int = 50,
        shape: str = "spec",
    ) -> dict[str, Any]:
        """``GET /api/ai/generations``: one page of every generation it keeps (any
        status unless ``status``), newest first (`HISTORY_ORDER`), each row with its
        ``cost`` (decimal string) and user; ``total_cost`` is the exact sum over every
        matching row, not the page. Nothing is stored for it: the rows are the ones the
        queue lists keep (`retention`, `max_terminal`)."""
        self.advance()
        with self._lock:
            keyed: list[tuple[float, str, Any]] = []
            total = _ZERO_COST
            for row in itertools.chain(self._active.values(), self._terminal.values()):
                if (
                    (status is None or row.status == status)
                    and (namespace is None or row.namespace == namespace)
                    and (model is None or row.model == model)
                    and (media_type is None or row.media_type == media_type)
                    and (repo is None or row.repo == repo)
                    and (folder is None or row.folder == folder)
                ):
                    keyed.append((float(int(row.enqueued)), row.id, row))
                    if row.status == "succeeded":
                        total += self.cost(row)
            for key, raw in self._injected.items():
                wanted = raw.get("status") if status is None else status
                if _injected_matches(raw, namespace, model, media_type, wanted, repo, folder):
                    keyed.append((_time_key(raw.get("enqueued_at")), key, raw))
                    total += _injected_cost(raw)
            keyed.sort(key=lambda item: (item[0], item[1]), reverse=True)
            start = (page - 1) * page_size
            rows = [
                self._history_dict(item[2], shape) if isinstance(item[2], _Row) else dict(item[2])
                for item in keyed[start : start + page_size]
            ]
        entries = len(keyed)
        return {
            "count": len(rows),
            "generations": rows,
            "page_number": page,
            "page_size": page_size,
            "total_entries": entries,
            "total_pages": max(1, math.ceil(entries / page_size)),
            "total_cost": format(total, "f"),
        }

    def model_info(self, name: str) -> dict[str, Any] | None:
        """``GET /api/ai/models/{id}``: a model it serves, with its prices; else None."""
        with self._lock:
            state = self._models.get(name)
        if state is None:
            return None
        spec = state.spec
        return {
            "id": spec.name,
            "name": spec.name,
            "media_type": spec.media_type,
            "cost_per_image": spec.cost_per_image,
            "cost_per_second": spec.cost_per_second,
            "cost_per_second_with_audio": spec.cost_per_second_with_audio,
            "cost_per_second_high_res": spec.cost_per_second_high_res,
        }

    def _spec_for(self, name: str, media_type: str | None) -> ModelSpec:
        state = self._models.get(name)
        if state is None:
            video = media_type == "video"
            spec = ModelSpec(
                name,
                "video" if video else "image",
                (40.0, 90.0) if video else (5.0, 15.0),
                slots=2,
                aspect_ratios=("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9"),
                cost_per_second="0.05" if video else None,
                cost_per_image=None if video else "0.01",
            )
            state = self._models[name] = _ModelState(spec)
        return state.spec

    def add_row(self, row: dict[str, Any]) -> str:
        """Inject an arbitrary (even malformed) row, served as-is; returns its key.

        Injected rows never progress by themselves; they can be cancelled.
        """
        with self._lock:
            gid = row.get("generation_id")
            key = gid if isinstance(gid, str) else f"injected-{len(self._injected)}"
            self._injected[key] = dict(row)
            return key

    def finished(self, since: float | None = None) -> dict[str, tuple[str, float]]:
        """Ground truth: ``{id: (final status, completion time)}`` for every generation
        this simulation finished (succeeded, failed or cancelled, in completion order),
        those finished at or after ``since`` when given; advanced to ``clock()`` first.
        Kept even after `retention` drops a row from the ``status=`` lists (up to
        `OUTCOMES_CAP`). Rows injected with `add_row` are not simulated, so not here."""
        self.advance()
        with self._lock:
            items = list(self._outcomes.items())
        if since is None:
            return dict(items)
        return {gid: (status, at) for gid, (status, at) in items if at >= since}

    def outcomes(self, since: float | None = None) -> dict[str, str]:
        """Ground truth: ``{id: final status}`` (see `finished`)."""
        return {gid: status for gid, (status, _) in self.finished(since).items()}

    def stats(self) -> dict[str, Any]:
        """Counts per status and per model (handy for demos and benchmarks)."""
        self.advance()
        with self._lock:
            by_status: dict[str, int] = dict.fromkeys(STATUSES, 0)
            for row in itertools.chain(self._active.values(), self._terminal.values()):
                by_status[row.status] += 1
            queued = {name: len(s.queue) for name, s in self._models.items()}
            running = {name: s.running for name, s in self._models.items()}
            return {"status": by_status, "queued": queued, "running": running}


class RetryRefused(ValueError):
    """The hub refuses to retry this generation (it succeeded)."""


def _injected_request(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The request an injected row carries, as `QueueSimulator.retry` uses it; None when
    it has no usable model or prompt."""
    model = raw.get("model_name", raw.get("model"))
    prompt = raw.get("prompt")
    if not isinstance(model, str) or not model or not isinstance(prompt, str) or not prompt:
        return None
    seed = raw.get("seed")
    duration = raw.get("duration")
    media_type = raw.get("media_type")
    return {
        "model": model,
        "prompt": prompt,
        "target": tuple(
            v if isinstance(v, str) else None
            for v in (raw.get(k) for k in ("target_namespace", "target_repo", "target_directory"))
        ),
        "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        "aspect_ratio": raw.get("aspect_ratio")
        if isinstance(raw.get("aspect_ratio"), str)
        else None,
        "duration": duration
        if isinstance(duration, int | float) and not isinstance(duration, bool)
        else None,
        "media_type": media_type if media_type in MEDIA_TYPES else None,
        "extras": {
            k: v for k, v in raw.items() if k not in _CORE_FIELDS | _BODY_FIELDS | _HUB_FIELDS
        }
        or None,
    }


def _injected_cost(raw: dict[str, Any]) -> Decimal:
    """An injected row's cost, as far as it is a decimal string (garbage counts 0)."""
    cost = raw.get("cost")
    if isinstance(cost, str):
        try:
            amount = Decimal(cost)
        except ArithmeticError:
            return _ZERO_COST
        if amount.is_finite():
            return amount
    return _ZERO_COST


def _time_key(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    try:
        key = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(key) else key


def _injected_active(raw: dict[str, Any]) -> bool:
    # A row without a status (the docs' older shape) is simply "in progress".
    return raw.get("status") in (None, "queued", "processing")


def _injected_matches(
    raw: dict[str, Any],
    namespace: str | None,
    model: str | None,
    media_type: str | None,
    status: str | None,
    repo: str | None,
    folder: str | None,
) -> bool:
    if status is None:
        if not _injected_active(raw):
            return False
    elif raw.get("status") != status:
        return False
    return (
        (namespace is None or raw.get("target_namespace") == namespace)
        and (model is None or model in (raw.get("model_name"), raw.get("model")))
        and (media_type is None or raw.get("media_type") == media_type)
        and (repo is None or raw.get("target_repo") == repo)
        and (folder is None or raw.get("target_directory") == folder)
    )


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _validate_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise ValueError("model is required")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt is required")
    num = body.get("num_generations", 1)
    if num is None:
        num = 1
    if isinstance(num, bool) or not isinstance(num, int) or not 1 <= num <= 4:
        raise ValueError("num_generations must be an integer between 1 and 4")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError("seed must be an integer")
    duration = body.get("duration")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0
    ):
        raise ValueError("duration must be a positive number")
    media_type = body.get("media_type")
    if media_type is not None and media_type not in MEDIA_TYPES:
        raise ValueError("media_type must be one of: image, video")
    return {
        "model": model,
        "prompt": prompt,
        "num_generations": num,
        "target_namespace": _optional_str(body, "target_namespace"),
        "target_repo": _optional_str(body, "target_repo"),
        "target_directory": _optional_str(body, "target_directory"),
        "seed": seed,
        "aspect_ratio": _optional_str(body, "aspect_ratio"),
        "duration": duration,
        "media_type": media_type,
    }
