"""``python -m gateway.bench_resilience``: one department hung, its circuit open, in one run.

Builds the demo (10,000 organizations) with the tax department's connector timeout at
``--timeout`` seconds (default 1), starts ``govshare serve`` (one uvicorn worker, row cache
off so that every request reads its sources, ``--audit`` off by default) and drives, from
``--connections`` keep-alive connections, for ``--seconds`` each:

1. healthy: the spanning query (one organization across amr, tax and credit) and the
   healthy-only query (amr and credit);
2. then the tax department hangs: its SQLite file is locked by a writer
   (``BEGIN EXCLUSIVE``), as a department in the middle of a long load would hold it. The
   first requests wait one timeout each until its circuit opens (5 failures); then the same
   two queries again. The spanning query's tax field is ``SOURCE_UNAVAILABLE``, checked on
   every answer.

Reported: each phase's requests/s, p50 and p99, and the ratios hung / healthy p99 of the
spanning query (the goal: at most 1.2) and of the healthy-only query (unchanged: about 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.auth import load_signer
from gateway.bench import QUERY, HTTPConnection, Measure, drive, start_server, until_ready
from gateway.cli import loop_factory
from gateway.demo import HOUSING, build_demo, organization_codes

ORGANIZATIONS = 10_000
HEALTHY_ONLY = QUERY.replace("    taxCredit { creditRating taxpayerType }\n", "")
Sender = Callable[[str], Awaitable[None]]


class Tolerant(HTTPConnection):
    """Takes an answer with GraphQL errors (the hung department's SOURCE_UNAVAILABLE)."""

    def accepts(self, status: bytes, payload: bytes) -> bool:
        return b" 200 " in status


def sender(url: str, headers: dict[str, str], connections: int, query: str, hung: bool) -> Sender:
    """``one(code)``: POST ``query`` for ``code``; when ``hung``, the answer must carry the tax
    field's SOURCE_UNAVAILABLE (and only that error), else no error at all."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    pool: asyncio.Queue[HTTPConnection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait((Tolerant if hung else HTTPConnection)(host, int(port), "/graphql", headers))

    async def one(code: str) -> None:
        connection = await pool.get()
        try:
            payload = await connection.post(
                json.dumps({"query": query, "variables": {"code": code}}).encode()
            )
        finally:
            pool.put_nowait(connection)
        if hung and payload.count(b"SOURCE_UNAVAILABLE") != 1:
            raise RuntimeError(f"expected one SOURCE_UNAVAILABLE (tax), got {payload[:300]!r}")

    return one


def hang_tax(data_dir: Path) -> sqlite3.Connection:
    writer = sqlite3.connect(data_dir / "tax.db", isolation_level=None)
    writer.execute("BEGIN EXCLUSIVE")
    return writer


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-resilience-"))
    build_demo(data_dir, ORGANIZATIONS, 1000)
    catalog = data_dir / "catalog.yaml"
    catalog.write_text(catalog.read_text().replace("tax.db'}", f"tax.db', timeout: {args.timeout}}}"))
    codes = organization_codes(ORGANIZATIONS)
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], "bench", 3600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json"}
    os.environ["GOVSHARE_CACHE_URL"] = "off"  # start_server passes the environment on
    process, url = start_server(data_dir, audit=args.audit == "on")
    n, seconds = args.connections, args.seconds
    try:
        await until_ready(url)

        def spanning(hung: bool) -> Sender:  # fresh connections per phase: idle ones time out
            return sender(url, headers, n, QUERY, hung)

        def healthy_only() -> Sender:
            return sender(url, headers, n, HEALTHY_ONLY, False)

        await drive("warm-up", spanning(False), codes, n, 1.0)
        healthy = [
            await drive("spanning 3 departments, all healthy", spanning(False), codes, n, seconds),
            await drive("healthy-only 2 departments, all healthy", healthy_only(), codes, n, seconds),
        ]
        writer = hang_tax(data_dir)
        try:
            opened = await open_circuit(spanning(True), codes[0], args.timeout)
            hung = [
                await drive("spanning 3 departments, tax hung, open", spanning(True), codes, n, seconds),
                await drive("healthy-only 2 departments, tax hung", healthy_only(), codes, n, seconds),
            ]
        finally:
            writer.execute("ROLLBACK")
            writer.close()
    finally:
        process.terminate()
        process.wait()
    report(args, healthy, hung, opened)


async def open_circuit(one: Sender, code: str, timeout: float) -> float:
    """Ask until an answer comes back fast (the circuit opened); the seconds that took."""
    started = time.perf_counter()
    while time.perf_counter() - started < 60:
        asked = time.perf_counter()
        await one(code)
        if time.perf_counter() - asked < timeout / 4:
            return time.perf_counter() - started
    raise RuntimeError("the tax department's circuit did not open within 60 s")


def report(args: argparse.Namespace, healthy: list[Measure], hung: list[Measure], opened: float) -> None:
    print(f"govshare bench_resilience: {args.connections} connections, {args.seconds:.0f} s per phase, "
          f"one uvicorn worker, audit {args.audit}, row cache off, "
          f"tax timeout {args.timeout:g} s")  # fmt: skip
    for measure in (*healthy, *hung):
        print(measure.line())
    print(f"the circuit opened after {opened:.1f} s of the hang (each request before it waited one timeout)")
    span = hung[0].percentile(0.99) / healthy[0].percentile(0.99)
    only = hung[1].percentile(0.99) / healthy[1].percentile(0.99)
    print(f"ratio p99 spanning, tax hung (circuit open) / all healthy: {span:.2f} (goal: at most 1.2)")
    print(f"ratio p99 healthy-only, tax hung / all healthy: {only:.2f} (goal: unchanged, about 1)")
    print(f"ratio requests/s healthy-only, tax hung / all healthy: {hung[1].rate / healthy[1].rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.bench_resilience", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=1.0, help="the tax department's source timeout, s")
    parser.add_argument("--audit", choices=("on", "off"), default="off", help="GOVSHARE_AUDIT of the server")
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the same loop as the server
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
