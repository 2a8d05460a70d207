"""`queue-tui history` against the demo hub over a real loopback socket: thousands of
generations behind its 100-row page cap, rows arriving at the head while it pages, costs
summed exactly, CSV read back with the csv module, and a hub without the endpoint."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner, Result

from queue_tui import cli
from queue_tui.core.money import format_money
from queue_tui.core.timefmt import fmt_local
from queue_tui.demo.clock import FakeClock
from queue_tui.demo.server import HISTORY_PAGE_CAP, DemoServer
from queue_tui.demo.simulator import QueueSimulator
from queue_tui.headless import HISTORY_CSV_FIELDS

pytestmark = pytest.mark.usefixtures("isolated_env")


class BusyHub(QueueSimulator):
    """A history that gets `arrivals` new generations at its head after every page it
    serves (as users keep enqueuing while a long listing pages), and remembers the
    first page's `total_cost` and how many pages it served."""

    arrivals = 0
    pages_served = 0
    first_total: str | None = None

    def history(self, **kwargs: Any) -> dict[str, Any]:
        page = super().history(**kwargs)
        self.pages_served += 1
        if self.first_total is None:
            self.first_total = page["total_cost"]
        for _ in range(self.arrivals):
            self.enqueue({"model": "veo-3-fast", "prompt": "a late arrival", "duration": 8})
        return page


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


@pytest.fixture
def hub(demo_server: DemoServer) -> Iterator[DemoServer]:
    yield demo_server
    demo_server.app.state.history_enabled = True


def with_history(server: DemoServer, clock: FakeClock, n: int, arrivals: int = 0) -> BusyHub:
    sim = BusyHub.with_history(n, 7, clock)
    sim.arrivals = arrivals
    server.sim = sim
    return sim


def test_jsonl_lists_2500_generations_once_each_while_rows_arrive_and_costs_add_up(
    hub: DemoServer, fake_clock: FakeClock
) -> None:
    sim = with_history(hub, fake_clock, 2_500, arrivals=3)
    seeded = set(sim.finished())
    assert len(seeded) == 2_500
    result = run("history", "--jsonl", "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    ids = [row["generation_id"] for row in rows]
    assert len(ids) == len(set(ids)) == 2_500  # no repeats
    assert set(ids) == seeded  # no gaps, and none of the rows that arrived meanwhile
    # It asked for 1,000 a page; the hub served 100: every page was followed.
    assert sim.pages_served >= 2_500 // HISTORY_PAGE_CAP
    assert sim.first_total is not None
    assert sum(Decimal(row["cost"]) for row in rows) == Decimal(sim.first_total)
    times = [row["enqueued_at"] for row in rows]
    assert times == sorted(times, reverse=True)  # newest first
    assert result.stderr == ""  # no progress line off a terminal, nothing dropped


def test_the_table_ends_with_the_hubs_total_and_a_range_names_both_figures(
    hub: DemoServer, fake_clock: FakeClock
) -> None:
    sim = with_history(hub, fake_clock, 250)
    body = sim.history(page_size=1000)
    total = Decimal(body["total_cost"])
    result = run("history", "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ENQUEUED", "STATUS", "MODEL", "COST", "USER", "ID", "ERROR"]
    assert len(lines) == 1 + 250 + 2
    rows = body["generations"]
    failed = sum(r["status"] == "failed" for r in rows)
    ran = failed + sum(r["status"] == "succeeded" for r in rows)
    assert lines[-1] == (
        f"250 generations, {format_money(total)} (the hub's total for these filters), "
        f"{failed / ran:.1%} failed ({failed} of {ran} that ran to an end)"
    )

    # The hub's clock is frozen in 2025: the range is given in unix seconds.
    since = int(fake_clock()) - 3 * 3600
    recent = [r for r in rows if r["enqueued_at"] >= since]
    spent = sum((Decimal(r["cost"]) for r in recent), Decimal(0))
    sim.pages_served = 0
    result = run("history", "--since", str(since), "--page-size", "20", "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 + len(recent) + 2
    assert result.stdout.splitlines()[-1].startswith(
        f"{len(recent)} generations since {fmt_local(since)}, {format_money(spent)} "
        "(sum of the rows listed)"
    )
    assert result.stdout.splitlines()[-1].endswith(
        f"the hub's total for these filters, any time: 250 generations, {format_money(total)}"
    )
    # Paging stopped at the first row older than 3h: not all 13 pages of 20.
    assert sim.pages_served == len(recent) // 20 + 1


def test_csv_reads_back_with_the_csv_module_and_hostile_text_stays_inert(
    hub: DemoServer, fake_clock: FakeClock
) -> None:
    sim = with_history(hub, fake_clock, 120)
    sim.add_row(
        {
            "generation_id": "hostile-1",
            "model_name": "flux-1-dev\x1b[2J",
            "status": "succeeded",
            "enqueued_at": int(fake_clock()) - 5,
            "cost": "0.50",
            "prompt": '=HYPERLINK("http://evil.test","x")\x1b]0;pwned\x07, "quoted"\nline two',
            "username": "@bob",
            "user_id": "u_x",
        }
    )
    total = Decimal(sim.history(page_size=1)["total_cost"])
    result = run("history", "--csv", "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    raw = result.stdout_bytes.decode()
    assert "\x1b" not in raw and "\x07" not in raw
    assert raw.endswith("\r\n")  # RFC 4180 line ends
    table = list(csv.reader(io.StringIO(raw, newline="")))
    assert tuple(table[0]) == HISTORY_CSV_FIELDS
    records = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert len(records) == 121
    assert sum(Decimal(r["cost"]) for r in records) == total
    hostile = next(r for r in records if r["generation_id"] == "hostile-1")
    # Data stays data: quotes, commas and the line break round-trip; a formula does not run.
    assert hostile["prompt"] == '\'=HYPERLINK("http://evil.test","x"), "quoted"\nline two'
    assert hostile["username"] == "'@bob"
    assert hostile["model_name"] == "flux-1-dev"
    assert hostile["cost"] == "0.50"


def test_summary_by_model_matches_the_hubs_rows(hub: DemoServer, fake_clock: FakeClock) -> None:
    sim = with_history(hub, fake_clock, 400)
    rows = sim.history(page_size=1000)["generations"]
    expected: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "spend": Decimal(0)})
    for row in rows:
        expected[row["model_name"]]["count"] += 1
        expected[row["model_name"]]["spend"] += Decimal(row["cost"])
    result = run("history", "--summary", "model", "--json", "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    got = {
        g["model"]: {"count": g["count"], "spend": Decimal(g["spend"])} for g in document["groups"]
    }
    assert got == dict(expected)
    assert document["count"] == 400 and document["complete"] is True
    assert Decimal(document["total_cost"]) == Decimal(document["listed_cost"])

    table = run("history", "--summary", "model", "--host", hub.url)
    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "COUNT", "FAILED", "FAIL%", "SPEND"]
    assert lines[-3].split()[:2] == ["(all)", "400"]
    assert lines[-1].startswith("400 generations, $")


def test_json_is_one_document_with_the_rows_and_both_totals(
    hub: DemoServer, fake_clock: FakeClock
) -> None:
    with_history(hub, fake_clock, 230)
    result = run("history", "--json", "--status", "failed", "--host", hub.url)
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    rows = document["generations"]
    assert rows and {r["status"] for r in rows} == {"failed"}
    assert document["count"] == len(rows) == document["total_entries"]
    assert Decimal(document["listed_cost"]) == sum(Decimal(r["cost"]) for r in rows)
    assert document["since"] is None and document["complete"] is True


def test_a_hub_without_the_history_exits_10_with_one_line(hub: DemoServer) -> None:
    hub.app.state.history_enabled = False
    for args in ((), ("--csv",), ("--summary", "day")):
        result = run("history", *args, "--host", hub.url)
        assert (result.exit_code, result.stdout) == (10, "")
        assert result.stderr == (
            f"queue-tui: {hub.url} has no history: GET /api/ai/generations answered 404\n"
        )


def test_bad_flags_are_one_line_and_exit_2(hub: DemoServer) -> None:
    cases = {
        ("--since", "yesterday"): "queue-tui: --since: expected a duration before now",
        ("--since", "1h", "--until", "2h"): "queue-tui: --since ('1h') is not before --until",
        ("--json", "--csv"): "queue-tui: --json, --jsonl and --csv: choose one",
        ("--page-size", "0"): "queue-tui: Invalid value for '--page-size'",
    }
    for args, start in cases.items():
        result = run("history", *args, "--host", hub.url)
        assert result.exit_code == 2, (args, result.stderr)
        (line,) = result.stderr.splitlines()
        assert line.startswith(start), (args, line)
