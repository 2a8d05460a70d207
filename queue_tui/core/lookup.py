"""Finding generations by id wherever the hub keeps them (`queue-tui show`, `resubmit`).

The sources, in order: get-by-id (the row while it is in the queue, and its final status
where the hub keeps finished generations), the `status=` lists (a row a list returns *is*
that status: `outcomes.StatusList`), then the history's `GET /api/ai/generations/{id}`.
As everywhere else, a failed request is never evidence: an id is *nowhere* only when
every source the hub offers has answered without it; otherwise the fault is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from queue_tui.api.client import UNSUPPORTED_STATUSES, QueueClient
from queue_tui.api.errors import NotFoundError, QueueError, RequestRejectedError, ServerError
from queue_tui.api.filters import QueueFilters
from queue_tui.api.models import Generation
from queue_tui.core.outcomes import TERMINAL_QUERY_ORDER, GetById, ListEndpoint, StatusList

#: How each source reads in a "not found" line.
GET_SOURCE = "get"
HISTORY_SOURCE = "history"


@dataclass(frozen=True, slots=True)
class Found:
    generation: Generation
    #: "get", "status=failed", "history".
    source: str


@dataclass(slots=True)
class Lookup:
    """Where each id asked about was found; the ids left unfound split into `faults`
    (a source failed: nothing can be said) and `nowhere` (every source answered)."""

    found: dict[str, Found] = field(default_factory=dict)
    faults: dict[str, QueueError] = field(default_factory=dict)
    nowhere: list[str] = field(default_factory=list)
    #: The sources that answered (for the "not found" line): "get", "status=failed"...
    asked: list[str] = field(default_factory=list)


def source_phrase(source: str) -> str:
    """`get-by-id`, `the failed list`, `the history`."""
    if source == GET_SOURCE:
        return "get-by-id"
    if source == HISTORY_SOURCE:
        return "the history"
    return f"the {source.removeprefix('status=')} list"


def asked_phrase(sources: Sequence[str]) -> str:
    """`get-by-id, the failed, cancelled and succeeded lists and the history`."""
    lists = [s.removeprefix("status=") for s in sources if s.startswith("status=")]
    parts = [source_phrase(s) for s in sources if not s.startswith("status=")]
    if lists:
        words = lists[0] if len(lists) == 1 else ", ".join(lists[:-1]) + f" and {lists[-1]}"
        at = 1 if parts and parts[0] == "get-by-id" else 0
        parts.insert(at, f"the {words} list{'s' if len(lists) > 1 else ''}")
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" and {parts[-1]}"


async def find(
    client: QueueClient,
    ids: Sequence[str],
    *,
    filters: QueueFilters | None = None,
    statuses: Sequence[str] = TERMINAL_QUERY_ORDER,
    history: bool = True,
) -> Lookup:
    """Look each id up: get-by-id, then the `statuses` lists (under `filters`' other
    server-side filters), then the history. Each list is asked once for every id still
    unfound; a source stops being asked at its first fault (the hub is failing)."""
    filters = (filters or QueueFilters()).with_(status=None, search=None)
    wanted = list(dict.fromkeys(ids))
    result = Lookup()
    faults: dict[str, QueueError] = {}

    def left() -> list[str]:
        return [gid for gid in wanted if gid not in result.found]

    def fault(gids: Sequence[str], error: QueueError) -> None:
        for gid in gids:
            faults[gid] = error

    get = GetById(max_per_round=len(wanted))
    answer = await get.ask(client, filters, wanted)
    for gid, gen in answer.found.items():
        result.found[gid] = Found(gen, GET_SOURCE)
    if answer.fault is not None:
        fault([g for g in wanted if g not in answer.found and g not in answer.absent], answer.fault)
    if get.available:
        result.asked.append(GET_SOURCE)
    else:
        # Without get-by-id, a row in flight is found only in the active lists.
        statuses = ["queued", "processing", *statuses]

    endpoint = ListEndpoint()
    for status in statuses:
        todo = left()
        if not todo:
            break
        source = StatusList(status, endpoint)
        answer = await source.ask(client, filters, todo)
        if answer.fault is not None:
            fault(todo, answer.fault)
            continue
        if not endpoint.available:
            # The spec's one endpoint is missing: the wrong host, not an answer.
            host = client.settings.display_host
            fault(todo, NotFoundError(f"{host} has no queue endpoint (404): wrong host or path?"))
            break
        if source.available:
            result.asked.append(source.name)
        for gid, gen in answer.found.items():
            result.found[gid] = Found(gen, source.name)

    if history:
        await _ask_history(client, left(), result, fault)

    for gid in left():
        if gid in faults:
            result.faults[gid] = faults[gid]
        else:
            result.nowhere.append(gid)
    return result


async def _ask_history(
    client: QueueClient,
    todo: list[str],
    result: Lookup,
    fault: Callable[[Sequence[str], QueueError], None],
) -> None:
    """`GET /api/ai/generations/{id}` for each id still unfound; a hub without it (405,
    501) is asked no more, quietly, as any source it lacks."""
    answered = False
    for i, gid in enumerate(todo):
        try:
            gen = await client.get_generation(gid)
        except (RequestRejectedError, ServerError) as exc:
            if exc.status_code in UNSUPPORTED_STATUSES:
                return
            fault(todo[i:], exc)
            break
        except QueueError as exc:
            fault(todo[i:], exc)
            break
        answered = True
        if gen is not None:
            if gen.generation_id != gid:
                gen = gen.model_copy(update={"generation_id": gid})
            result.found[gid] = Found(gen, HISTORY_SOURCE)
    if answered:
        result.asked.append(HISTORY_SOURCE)


__all__ = ["Found", "Lookup", "asked_phrase", "find", "source_phrase"]
