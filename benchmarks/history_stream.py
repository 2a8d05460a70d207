"""History streaming: RSS of `queue-tui history --jsonl` at 10,000 rows vs 100,000 rows.

    python benchmarks/history_stream.py [--quick]

Each run is a fresh subprocess: the real `run_history` (the code behind `queue-tui
history`) writes JSON lines to a sink that counts them, through the real client and
pager, from an httpx MockTransport that builds each page of 1,000 rows as it is asked
for (seeded rows as the demo hub serves them, renumbered; nothing of the history is kept
by the transport). VmRSS is read from /proc/self/status when 10,000 rows have been
written and again at 100,000. The baseline, in the same run: the same pages read through
the same client into one list (what a command that holds every row would need).
Target: streaming, RSS at 100,000 rows <= 1.1x RSS at 10,000 rows (flat).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _harness import DEMO_SEED, DEMO_START, Report, parse_args, python

TARGET = 1.1
PAGE = 1_000


def child(kind: str, small: int, big: int, template_path: str) -> None:
    """Runs in the subprocess: stream (or hold) `big` rows, print RSS at `small` and `big`."""
    import asyncio
    from decimal import Decimal

    import httpx

    from queue_tui.api.client import QueueClient
    from queue_tui.config import Settings
    from queue_tui.core.history import HistoryPager
    from queue_tui.headless import run_history

    template: list[dict] = json.loads(Path(template_path).read_text())
    pages = -(-big // PAGE)
    page_cost = sum(Decimal(r["cost"]) for r in template)
    total_cost = page_cost * (big // PAGE) + sum(Decimal(r["cost"]) for r in template[: big % PAGE])

    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        first = (page - 1) * PAGE
        rows = []
        for i in range(first, min(big, first + PAGE)):
            row = dict(template[i % PAGE])
            row["generation_id"] = f"{i:08x}-0000-4000-8000-000000000000"
            row["enqueued_at"] = int(DEMO_START) - i
            rows.append(row)
        body = {
            "count": len(rows),
            "generations": rows,
            "page_number": page,
            "page_size": PAGE,
            "total_entries": big,
            "total_pages": pages,
            "total_cost": str(total_cost),
        }
        return httpx.Response(200, content=json.dumps(body).encode())

    settings = Settings(host="http://127.0.0.1:9")
    client = QueueClient(settings, transport=httpx.MockTransport(handler))
    samples: dict[str, int] = {}
    written = 0

    def sample(at: int) -> None:
        if str(at) not in samples and written >= at:
            samples[str(at)] = status_kb("VmRSS")

    def sink(text: str) -> None:
        nonlocal written
        written += text.count("\n")
        sample(small)

    async def stream() -> None:
        async with client:
            code = await run_history(
                client, settings, write=sink, err=lambda line: None, output="jsonl"
            )
            assert code == 0, code

    async def hold() -> None:
        nonlocal written
        held: list = []
        async with client:
            pager = HistoryPager(client, page_size=PAGE)
            while not pager.done:
                held += await pager.next_rows()
                written = len(held)
                sample(small)

    asyncio.run(stream() if kind == "stream" else hold())
    sample(big)
    samples["hwm"] = status_kb("VmHWM")
    samples["rows"] = written
    print(json.dumps(samples))


def status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def template_rows() -> list[dict]:
    from queue_tui.demo.clock import FakeClock
    from queue_tui.demo.simulator import QueueSimulator

    sim = QueueSimulator.with_history(PAGE, DEMO_SEED, FakeClock(DEMO_START))
    return sim.history(page_size=PAGE)["generations"]


def measure(kind: str, small: int, big: int, template: Path) -> dict[str, int]:
    out = subprocess.run(
        [python(), __file__, "--child", kind, str(small), str(big), str(template)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        child(argv[1], int(argv[2]), int(argv[3]), argv[4])
        return 0
    args = parse_args(__doc__ or "", argv)
    small, big = (2_000, 10_000) if args.quick else (10_000, 100_000)
    report = Report(
        f"history streaming: RSS at {small:,} vs {big:,} rows ({PAGE:,} a page)", args.quick
    )
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "rows.json"
        template.write_text(json.dumps(template_rows()))
        results = {kind: measure(kind, small, big, template) for kind in ("stream", "hold")}
    for kind, label in (("stream", "history --jsonl (streamed)"), ("hold", "every row in a list")):
        r = results[kind]
        assert r["rows"] == big, r
        report.figure(
            f"{label}: RSS at {small:,} / {big:,} rows",
            f"{r[str(small)] / 1024:.1f} MiB / {r[str(big)] / 1024:.1f} MiB "
            f"(peak {r['hwm'] / 1024:.1f} MiB)",
        )
    flat = report.ratio(
        f"streamed: RSS {big:,} / RSS {small:,}",
        results["stream"][str(big)],
        results["stream"][str(small)],
    )
    report.ratio(
        f"baseline, held in a list: RSS {big:,} / RSS {small:,}",
        results["hold"][str(big)],
        results["hold"][str(small)],
    )
    report.ratio(
        f"streamed / held, RSS at {big:,} rows",
        results["stream"][str(big)],
        results["hold"][str(big)],
    )
    report.target(
        f"streaming {big:,} rows keeps RSS flat: <= {TARGET}x of RSS at {small:,} ({flat:.3f}x)",
        flat <= TARGET,
    )
    report.done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
