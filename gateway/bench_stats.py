"""``python -m gateway.bench_stats``: ``stats`` time against the length of the audit trail.

Writes data events through the real ``AuditLog`` (hash chain, group commit, usage
aggregates in the same transaction) into a fresh platform database, spread evenly over
one China year (2026), and at each size (default 10,000, 100,000 and 1,000,000 events)
times the ``stats`` service for an operator over every department:

- ``year``: the whole China year, 2026-01-01T00:00+08:00 to 2027-01-01T00:00+08:00;
- ``ragged``: 2026-02-03T10:17:23+08:00 to 2026-11-20T15:42:08+08:00 (partial hours at
  both ends, so raw events are read there);
- ``open``: no bounds.

Each is the median of ``--repeat`` runs (default 5). With ``--scan-up-to N`` it also times
the old way (reading every event of the period and counting it) while the trail holds at
most N events (default 100,000), to show what the aggregates replace.

Traffic shape: 40 consumer departments, each with 3 fixed query shapes over 1 to 3 of the
demo's 9 resources; 90 % query, 8 % compare, 2 % bulk; 5 % of resource uses refused,
1 % with ``SOURCE_UNAVAILABLE``. ``stats`` cost follows the distinct usage keys this makes
(a few hundred), not the number of events.

Options: ``--sizes 10000,100000,1000000``, ``--repeat 5``, ``--scan-up-to 100000``,
``--database-url URL`` (default: SQLite in a temporary folder), ``--data DIR`` (the demo
folder to build or reuse for the catalog and sources).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.app import Gateway
from gateway.audit import AuditEvent, AuditLog
from gateway.cli import loop_factory
from gateway.demo import BIGDATA, build_demo
from gateway.settings import Settings
from gateway.stats import UsageTally, owners
from policies.codes import make_uscc
from policies.decision import Consumer
from policies.workdays import CHINA_TIME

YEAR_START = dt.datetime(2026, 1, 1, tzinfo=CHINA_TIME)
YEAR_END = dt.datetime(2027, 1, 1, tzinfo=CHINA_TIME)
PERIODS: dict[str, tuple[dt.datetime | None, dt.datetime | None]] = {
    "year": (YEAR_START, YEAR_END),
    "ragged": (
        dt.datetime(2026, 2, 3, 10, 17, 23, tzinfo=CHINA_TIME),
        dt.datetime(2026, 11, 20, 15, 42, 8, tzinfo=CHINA_TIME),
    ),
    "open": (None, None),
}
CONSUMERS = 40
SHAPES = 3
APPEND_CONCURRENCY = 4000
OPERATOR = Consumer(BIGDATA.code, "bench", frozenset({"operator"}))


@dataclass(frozen=True)
class Shape:
    consumer: str
    resources: tuple[str, ...]


class Traffic:
    """Events spread evenly over the China year 2026, in time order (a seeded generator)."""

    def __init__(self, resources: list[str], total: int, seed: int = 2026) -> None:
        self.rng = random.Random(seed)
        self.total = total
        self.step = (YEAR_END - YEAR_START) / total
        self.subjects = [make_uscc("9", "1", "420102", f"MA{n:06d}") for n in range(1000)]
        self.shapes = [
            Shape(
                make_uscc("1", "1", "420100", f"BC{c:06d}"),
                tuple(self.rng.sample(resources, self.rng.randint(1, 3))),
            )
            for c in range(CONSUMERS)
            for _ in range(SHAPES)
        ]

    def moment(self, n: int) -> dt.datetime:
        """The time of the n-th event of the year (0-based)."""
        return (YEAR_START + self.step * n).astimezone(dt.UTC)

    def event(self) -> AuditEvent:
        shape = self.rng.choice(self.shapes)
        mode = self.rng.choices(["query", "compare", "bulk"], weights=[90, 8, 2])[0]
        decisions = {f"{r}.name": self._decision() for r in shape.resources}
        refused = any(value != "ALLOWED" for value in decisions.values())
        return AuditEvent(
            kind={"bulk": "export"}.get(mode, mode),
            outcome="partly_refused" if refused else "answered",
            consumer=shape.consumer,
            client="bench",
            purpose="行政审批核验",
            mode=mode,
            resources=shape.resources,
            items=tuple(sorted(decisions)),
            subjects=(self.rng.choice(self.subjects),),
            decisions=decisions,
            response_digest=f"{self.rng.getrandbits(256):064x}",
        )

    def _decision(self) -> str:
        roll = self.rng.random()
        if roll < 0.01:
            return "ALLOWED|SOURCE_UNAVAILABLE"
        return "CONDITIONAL_ACCESS_REQUIRED" if roll < 0.05 else "ALLOWED"


class Clock:
    """AuditLog's clock: hands out the traffic's times in order."""

    def __init__(self, traffic: Traffic) -> None:
        self.traffic, self.n = traffic, 0

    def __call__(self) -> dt.datetime:
        moment = self.traffic.moment(self.n)
        self.n += 1
        return moment


async def write(audit: AuditLog, traffic: Traffic, count: int) -> float:
    """Append ``count`` events (many in flight at once, as under load); seconds taken."""
    started = time.perf_counter()
    for start in range(0, count, APPEND_CONCURRENCY):
        size = min(APPEND_CONCURRENCY, count - start)
        await asyncio.gather(*(audit.append(traffic.event()) for _ in range(size)))
    return time.perf_counter() - started


async def median_seconds(run: Callable[[], Awaitable[Any]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def scan_count(
    audit: AuditLog, gateway: Gateway, since: dt.datetime | None, until: dt.datetime | None
) -> UsageTally:
    """The old way: read every event of the period, page by page, and count it."""
    tally = UsageTally(owners(gateway.catalog, gateway.catalog.departments))
    after: str | None = None
    while page := await audit.events(since=since, until=until, after=after, limit=1000):
        for event in page:
            tally.add(event)
        after = page[-1]["id"]
    return tally


def sizes_of(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise SystemExit("--sizes: positive numbers of events, e.g. 10000,100000,1000000")
    return sizes


def report_lines(rows: list[dict[str, Any]]) -> Iterator[str]:
    yield "| events | usage keys | stats year | stats ragged | stats open | scan year (old way) | written |"
    yield "|---:|---:|---:|---:|---:|---:|---:|"
    for row in rows:
        scan = f"{row['scan'] * 1000:.0f} ms" if row.get("scan") is not None else "-"
        yield (
            f"| {row['events']:,} | {row['keys']:,} | {row['year'] * 1000:.1f} ms | "
            f"{row['ragged'] * 1000:.1f} ms | {row['open'] * 1000:.1f} ms | {scan} | {row['written']:.0f} s |"
        )


async def distinct_keys(audit: AuditLog) -> int:
    """How many (department, mode, consumer) the trail has: what ``stats`` time follows."""
    return len(await audit.usage(None, None))


async def main(args: argparse.Namespace) -> None:
    sizes = sizes_of(args.sizes)
    folder = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-stats-"))
    if not (folder / "catalog.yaml").exists():
        build_demo(folder, organizations=100, persons=100)
    url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench-stats.db"
    settings = Settings.load({}, data=str(folder), database_url=url, instance="bench-gateway")
    gateway = await Gateway.start(settings)
    traffic = Traffic(sorted(gateway.catalog.resources), sizes[-1])
    owned = owners(gateway.catalog, gateway.catalog.departments)
    audit = AuditLog(url, instance="bench", max_batch=APPEND_CONCURRENCY, clock=Clock(traffic), owners=owned)
    await audit.start()
    assert gateway.federation.stats is not None
    stats = gateway.federation.stats
    rows: list[dict[str, Any]] = []
    written, done = 0.0, 0
    try:
        for size in sizes:
            seconds = await write(audit, traffic, size - done)
            written, done = written + seconds, size
            row: dict[str, Any] = {"events": size, "written": written, "keys": await distinct_keys(audit)}
            for name, (since, until) in PERIODS.items():
                run = lambda s=since, u=until: stats.department_stats(OPERATOR, since=s, until=u)  # noqa: E731
                row[name] = await median_seconds(run, args.repeat)
            if size <= args.scan_up_to:
                row["scan"] = await median_seconds(
                    lambda: scan_count(audit, gateway, YEAR_START, YEAR_END), 1
                )
            rows.append(row)
            print(f"{size:,} events: year {row['year'] * 1000:.1f} ms", file=sys.stderr, flush=True)
    finally:
        await audit.close()
        await gateway.close()
    print(f"stats over the audit trail ({url.split(':')[0]}, median of {args.repeat})")
    for line in report_lines(rows):
        print(line)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench_stats", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="trail lengths to time at")
    parser.add_argument("--repeat", type=int, default=5, help="runs per timing (median)")
    parser.add_argument(
        "--scan-up-to", type=int, default=100_000, help="also time the full scan up to N events"
    )
    parser.add_argument("--database-url", help="SQLAlchemy async URL (default: SQLite in the folder)")
    parser.add_argument(
        "--data", help="demo folder for the catalog and sources (default: a new temporary one)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the same loop as the server
        runner.run(main(parse()))
