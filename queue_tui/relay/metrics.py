"""The relay's Prometheus metrics, named the way job-queue exporters name theirs
(celery-exporter's `celery_queue_length`, `celery_task_runtime`; Flower's
`flower_task_runtime_seconds`, `flower_worker_online`).

Labels are a fixed, small vocabulary: model, media type, status or outcome, and a fault's
kind (`QueueError.kind`). Never an id, a prompt, a user or an error text. Model names come
from the hub, so they are sanitised and capped (`MAX_MODELS`; the rest count as "other").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Gauge, Histogram
from prometheus_client import Counter as PromCounter
from prometheus_client.exposition import generate_latest

from queue_tui.api.models import Generation
from queue_tui.core.tracker import EventKind, LifecycleEvent
from queue_tui.sanitize import clean

PREFIX = "queue_tui"
#: Queue wait and run time: from seconds to an hour (video renders run for many minutes).
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600, 7200)
POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: Distinct model label values; past this many, "other" (a hub listing junk model names
#: cannot blow up the scrape).
MAX_MODELS = 50
OTHER = "other"
MEDIA_TYPES = ("image", "video")
#: Final outcomes, as counted.
OUTCOMES = ("succeeded", "failed", "cancelled", "unknown")


class RelayMetrics:
    """Every metric of one relay, in its own registry (several relays in one test
    process must not share counters)."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._models: set[str] = set()
        self.queue_length = Gauge(
            f"{PREFIX}_queue_length",
            "Generations in the queue now, by model, media type and status.",
            ["model", "media_type", "status"],
            registry=registry,
        )
        self.finished = PromCounter(
            f"{PREFIX}_generations_finished",
            "Generations seen finishing, by model, media type and outcome.",
            ["model", "media_type", "outcome"],
            registry=registry,
        )
        self.queue_wait = Histogram(
            f"{PREFIX}_generation_queue_wait_seconds",
            "Seconds from enqueued to started, of the generations seen finishing.",
            ["model", "media_type"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.runtime = Histogram(
            f"{PREFIX}_generation_runtime_seconds",
            "Seconds from started to completed, of the generations seen finishing.",
            ["model", "media_type"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.oldest_queued = Gauge(
            f"{PREFIX}_oldest_queued_age_seconds",
            "Age of the oldest queued generation, by model.",
            ["model"],
            registry=registry,
        )
        self.poll_errors = PromCounter(
            f"{PREFIX}_upstream_poll_errors",
            "Failed polls of the hub, by kind of fault.",
            ["kind"],
            registry=registry,
        )
        self.poll_duration = Histogram(
            f"{PREFIX}_upstream_poll_duration_seconds",
            "Seconds per successful poll of the hub.",
            buckets=POLL_BUCKETS,
            registry=registry,
        )
        self.last_good_poll = Gauge(
            f"{PREFIX}_upstream_last_good_poll_timestamp_seconds",
            "Unix time of the last successful poll of the hub (0: none yet).",
            registry=registry,
        )
        self.upstream_requests = PromCounter(
            f"{PREFIX}_upstream_requests",
            "Requests the relay sent to the hub, by what for.",
            ["purpose"],
            registry=registry,
        )
        self.event_stream_connected = Gauge(
            f"{PREFIX}_upstream_event_stream_connected",
            "1 while the relay's event stream from the hub is open.",
            registry=registry,
        )
        self.viewers = Gauge(
            f"{PREFIX}_viewers_connected",
            "Viewers with an event stream from the relay open now.",
            registry=registry,
        )
        self.replay_gaps = PromCounter(
            f"{PREFIX}_replay_gaps",
            "Reconnecting viewers whose Last-Event-ID was older than the replay buffer.",
            registry=registry,
        )

    # -- labels ---------------------------------------------------------------------------

    def model(self, name: str) -> str:
        value = clean(name, max_len=60) or "unknown"
        if value in self._models:
            return value
        if len(self._models) >= MAX_MODELS:
            return OTHER
        self._models.add(value)
        return value

    @staticmethod
    def media(name: str) -> str:
        return name if name in MEDIA_TYPES else "unknown"

    # -- updates ----------------------------------------------------------------------------

    def observe_queue(self, rows: Iterable[Generation], now: float) -> None:
        """The queue as the last poll listed it: depth by model, media and status, and
        the oldest queued row's age by model (series of models gone are removed)."""
        depth: Counter[tuple[str, str, str]] = Counter()
        oldest: dict[str, float] = {}
        for gen in rows:
            model = self.model(gen.model_name)
            status = gen.status if gen.status in ("queued", "processing") else "other"
            depth[(model, self.media(gen.media_type), status)] += 1
            if gen.status == "queued" and gen.enqueued_at is not None:
                age = max(0.0, now - gen.enqueued_at)
                oldest[model] = max(age, oldest.get(model, 0.0))
        self.queue_length.clear()
        for labels, n in depth.items():
            self.queue_length.labels(*labels).set(n)
        self.oldest_queued.clear()
        for model, age in oldest.items():
            self.oldest_queued.labels(model).set(age)

    def observe_events(self, events: Iterable[LifecycleEvent]) -> None:
        for event in events:
            if not event.is_final:
                continue
            gen = event.generation
            model, media = self.model(gen.model_name), self.media(gen.media_type)
            outcome = event.kind.value if event.kind.value in OUTCOMES else "unknown"
            self.finished.labels(model, media, outcome).inc()
            if event.kind not in (EventKind.SUCCEEDED, EventKind.FAILED):
                continue
            enqueued, started, done = gen.enqueued_at, gen.started_at, gen.completed_at
            if enqueued is not None and started is not None and started >= enqueued:
                self.queue_wait.labels(model, media).observe(started - enqueued)
            if started is not None and done is not None and done >= started:
                self.runtime.labels(model, media).observe(done - started)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
