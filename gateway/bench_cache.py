"""``python -m gateway.bench_cache``: the row cache's hits against its misses, in one run.

Builds the demo (40,000 organizations), starts ``govshare serve`` (one uvicorn worker,
``GOVSHARE_CACHE_URL`` from ``--cache-url``, default ``memory://``; ``--audit on|off``)
and drives the one-organization query of ``gateway.bench`` (3 departments, code in
variables) from ``--connections`` keep-alive connections:

Each of ``--connections`` (default 1 and 32) is measured: with one connection a miss waits
for its source reads; with 32, concurrent misses share source calls (``resolvers.batching``
coalesces them), so the source costs each request less and a hit saves less.

- miss: every request names an organization never asked before (its rows are not cached:
  the cache is asked, the source is read, the rows are stored);
- hit: every request names one of 1,000 organizations read once before (every row cached).

The access decision (and, with ``--audit on``, the audit event and the voucher) is made on
every request either way: only the source reads differ. ``--audit off`` (the default)
measures the data path alone: an audited request also waits for the audit store's group
commit, which no cache can save, and which at one connection costs more than the source.
Phases alternate over ``--rounds`` rounds; medians are reported with the ratio hit / miss
requests/s (the goal: at least 2).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from gateway.auth import load_signer
from gateway.bench import Measure, _median, drive, query_sender, start_server, until_ready
from gateway.cli import loop_factory
from gateway.demo import HOUSING, build_demo, organization_codes

ORGANIZATIONS = 40_000
HOT = 1_000  # organizations whose rows are cached before the hit phases


Sender = Callable[[str], Awaitable[None]]


def fresh_sender(one: Sender, codes: Iterator[str]) -> Sender:
    """``one`` for a code never used before, whatever code ``drive`` picked."""

    async def send(_: str) -> None:
        code = next(codes, None)
        if code is None:
            raise RuntimeError("ran out of fresh organizations: lower --seconds or --connections")
        await one(code)

    return send


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-cache-"))
    build_demo(data_dir, ORGANIZATIONS, 1000)
    codes = organization_codes(ORGANIZATIONS)
    hot, cold = codes[:HOT], iter(codes[HOT:])
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], "bench", 3600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json"}
    os.environ["GOVSHARE_CACHE_URL"] = args.cache_url  # start_server passes the environment on
    process, url = start_server(data_dir, audit=args.audit == "on")
    results = []
    try:
        await until_ready(url)
        warm = query_sender(url, headers, 1)
        for code in hot:  # read once: their rows are cached from now on
            await warm(code)
        for connections in args.connections:
            one = query_sender(url, headers, connections)
            await drive("warm-up", fresh_sender(one, cold), hot, connections, 1.0)
            results.append((connections, *await alternate(args, one, cold, hot, connections)))
    finally:
        process.terminate()
        process.wait()
    report(args, results)


async def alternate(
    args: argparse.Namespace, one: Sender, cold: Iterator[str], hot: list[str], connections: int
) -> tuple[Measure, Measure]:
    """Miss and hit phases alternated over ``args.rounds`` rounds; the medians."""
    runs: dict[str, list[Measure]] = {"miss": [], "hit": []}
    for round_ in range(args.rounds):  # neither phase always runs first
        for name in ("miss", "hit") if round_ % 2 == 0 else ("hit", "miss"):
            if name == "miss":
                measure = await drive("cache miss (organization never asked)", fresh_sender(one, cold), hot,
                                      connections, args.seconds)  # fmt: skip
            else:
                measure = await drive("cache hit (rows cached)", one, hot, connections, args.seconds)
            runs[name].append(measure)
    return _median(runs["miss"]), _median(runs["hit"])


def report(args: argparse.Namespace, results: list[tuple[int, Measure, Measure]]) -> None:
    print(f"govshare bench_cache: {args.seconds:.0f} s per phase, median of {args.rounds} rounds, "
          f"one uvicorn worker, audit {args.audit}, cache {args.cache_url}")  # fmt: skip
    for connections, miss, hit in results:
        print(f"-- {connections} connection{'s' if connections > 1 else ''}")
        print(miss.line())
        print(hit.line())
        print(f"ratio cache hit / miss requests/s, {connections} connections: {hit.rate / miss.rate:.2f} "
              "(goal: at least 2)")  # fmt: skip


def counts(text: str) -> list[int]:
    return [int(n) for n in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench_cache", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--connections",
        type=counts,
        default=[1, 32],
        help="keep-alive connection counts, comma-separated, each measured (default 1,32)",
    )
    parser.add_argument("--audit", choices=("on", "off"), default="off", help="GOVSHARE_AUDIT of the server")
    parser.add_argument("--rounds", type=int, default=3, help="alternated rounds; the median is reported")
    parser.add_argument("--cache-url", default="memory://", help="GOVSHARE_CACHE_URL of the server")
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the same loop as the server
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
