"""``python -m gateway.bench``: the gateway against the same SQL issued directly, in one run.

1. Builds the demo data (10,000 organizations) in a folder, starts ``govshare serve``
   (one uvicorn worker) on 127.0.0.1 and drives it with 32 keep-alive connections:
   one organization across 3 departments, document fixed, code in variables, codes
   rotating. Reports requests/s, p50, p99.
2. The floor: the same three SELECTs through SQLAlchemy async on the same SQLite
   files, 32 concurrent workers, one "request" = the three queries.
3. Source round trips for one 100-organization query (in-process, counted on the engines).
4. S2 on the audited server: 100 organizations across the same 3 departments in one query
   (``organizations(codes:)``, a window of 100 codes starting at a random one), reported in
   requests/s and organizations/s beside S1's organizations/s.

5. The workers figure: S1 on the audited server started with ``--workers N`` (default: the
   cores, as ``govshare serve`` starts by default), against one worker.

Options: ``--seconds`` per phase (default 10), ``--connections`` (32), ``--data DIR``,
``--workers N``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.app import Gateway
from gateway.auth import load_signer
from gateway.cli import loop_factory
from gateway.demo import HOUSING, build_demo, organization_codes
from gateway.settings import Settings
from policies.decision import Consumer
from resolvers.context import RequestContext

QUERY = """query Bench($code: USCC!) {
  organization(code: $code) {
    code
    enterpriseRegistration { name status registeredCapital }
    taxCredit { creditRating taxpayerType }
    creditRecord { blacklisted penaltyCount }
  }
}"""
DIRECT = (
    ("amr", "SELECT uscc, ent_name, status, capital FROM enterprise WHERE uscc IN (:code)"),
    ("tax", "SELECT uscc, rating, taxpayer_type FROM tax_credit WHERE uscc IN (:code)"),
    ("credit", "SELECT uscc, blacklisted, penalties FROM credit_record WHERE uscc IN (:code)"),
)
ORGANIZATIONS = 10_000


@dataclass
class Measure:
    name: str
    latencies: list[float]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    def line(self) -> str:
        return (f"{self.name:<50} {self.rate:>9.0f} req/s  p50 {self.percentile(0.5):6.2f} ms  "
                f"p99 {self.percentile(0.99):6.2f} ms  (n={len(self.latencies)})")  # fmt: skip


async def drive(
    name: str, one: Callable[[str], Awaitable[None]], codes: list[str], workers: int, seconds: float
) -> Measure:
    """Run ``one(code)`` from ``workers`` concurrent loops for ``seconds``; time each call."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def loop(seed: int) -> None:
        rng = random.Random(seed)
        while time.perf_counter() < stop:
            started = time.perf_counter()
            await one(rng.choice(codes))
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(workers)))
    return Measure(name, latencies, time.perf_counter() - began)


class HTTPConnection:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost less than the server."""

    def __init__(self, host: str, port: int, path: str, headers: dict[str, str]) -> None:
        self.host, self.port, self.path = host, port, path
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> bytes:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        request = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body  # fmt: skip
        self.writer.write(request)
        status = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        payload = await self.reader.readexactly(length)
        if not self.accepts(status, payload):
            raise RuntimeError(f"bad answer: {status!r} {payload[:300]!r}")
        return payload

    def accepts(self, status: bytes, payload: bytes) -> bool:
        """A good answer: 200 without GraphQL errors (other endpoints override this)."""
        return b" 200 " in status and b'"errors"' not in payload


def query_sender(
    url: str, headers: dict[str, str], connections: int, query: str = QUERY
) -> Callable[[str], Awaitable[None]]:
    """``one(code)``: POST ``query`` (default: the one-organization query) for ``$code`` on a
    free keep-alive connection of a pool of ``connections`` to ``url``."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    pool: asyncio.Queue[HTTPConnection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(HTTPConnection(host, int(port), "/graphql", headers))

    async def one(code: str) -> None:
        connection = await pool.get()
        try:
            await connection.post(json.dumps({"query": query, "variables": {"code": code}}).encode())
        finally:
            pool.put_nowait(connection)

    return one


async def bench_http(url: str, token: str, codes: list[str], workers: int, seconds: float) -> Measure:
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json"}
    one = query_sender(url, headers, workers)
    await drive("warm-up", one, codes, workers, 1.0)
    return await drive("gateway over HTTP", one, codes, workers, seconds)


S2_SIZE = 100
S2_QUERY = QUERY.replace("$code: USCC!", "$codes: [USCC!]!").replace(
    "organization(code: $code)", "organizations(codes: $codes)"
)


async def bench_s2(url: str, token: str, codes: list[str], workers: int, seconds: float) -> Measure:
    """S2: one query of ``S2_SIZE`` organizations (a window of the codes), ``workers`` connections."""
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json"}
    host, port = url.split("//")[1].split("/")[0].split(":")
    pool: asyncio.Queue[HTTPConnection] = asyncio.Queue()
    for _ in range(workers):
        pool.put_nowait(HTTPConnection(host, int(port), "/graphql", headers))
    start = {code: i for i, code in enumerate(codes[: len(codes) - S2_SIZE])}

    async def one(code: str) -> None:
        window = codes[start[code] : start[code] + S2_SIZE]
        connection = await pool.get()
        try:
            await connection.post(json.dumps({"query": S2_QUERY, "variables": {"codes": window}}).encode())
        finally:
            pool.put_nowait(connection)

    firsts = list(start)
    await drive("warm-up", one, firsts, workers, 1.0)
    return await drive(
        f"S2: {S2_SIZE} organizations in one query, audit + voucher", one, firsts, workers, seconds
    )


async def bench_direct(data_dir: Path, codes: list[str], workers: int, seconds: float) -> Measure:
    engines = {key: create_async_engine(f"sqlite+aiosqlite:///{data_dir}/{key}.db") for key, _ in DIRECT}
    statements = [(engines[key], sa.text(sql)) for key, sql in DIRECT]

    async def query(engine: Any, statement: Any, code: str) -> None:
        async with engine.connect() as conn:
            (await conn.execute(statement, {"code": code})).all()

    async def one(code: str) -> None:
        await asyncio.gather(*(query(engine, statement, code) for engine, statement in statements))

    try:
        await drive("warm-up", one, codes, workers, 1.0)
        return await drive("direct SQLAlchemy async, same 3 SELECTs", one, codes, workers, seconds)
    finally:
        for engine in engines.values():
            await engine.dispose()


async def round_trips_for_100(data_dir: Path) -> tuple[int, int]:
    gateway = await Gateway.start(Settings.load({}, data=str(data_dir)))
    statements: list[str] = []
    for connector in gateway.connectors.values():
        if engine := getattr(connector, "read_engine", None):  # where a SQL connector's reads go
            event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    query = QUERY.replace("$code: USCC!", "$codes: [USCC!]!").replace(
        "organization(code: $code)", "organizations(codes: $codes)"
    )
    consumer = Consumer(HOUSING.code, "bench", frozenset({"consumer"}))
    context = RequestContext(gateway.federation, consumer, purpose="bench")
    result = await gateway.schema.execute(query, {"codes": organization_codes(100)}, context)
    await gateway.close()
    assert not result.errors, result.errors
    return len(result.data["organizations"]), len(statements)  # type: ignore[index]


def start_server(data_dir: Path, audit: bool, workers: int = 1) -> tuple[subprocess.Popen[str], str]:
    """``govshare serve`` in a child process; its output goes to a file, never a full pipe."""
    env = {"GOVSHARE_AUDIT": "on" if audit else "off"}
    return serve_in_child(data_dir, 0, env, f"serve-{'audit' if audit else 'noaudit'}-{workers}.log", workers)


def serve_in_child(
    data_dir: Path, port: int, env: dict[str, str], log: str, workers: int = 1
) -> tuple[subprocess.Popen[str], str]:
    """``govshare serve --workers N`` in a child process (``env`` over this one's, log level
    warning), its output in ``data_dir/log``, never a full pipe; returns it and its GraphQL URL."""
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(data_dir), "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    output = data_dir / log
    with output.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "GOVSHARE_LOG_LEVEL": "warning", **env})  # fmt: skip
    return process, _wait_for_url(process, output)


def _wait_for_url(process: subprocess.Popen[str], output: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        for line in output.read_text().splitlines():
            if "serving" in line and "http" in line:
                time.sleep(1.0)  # lifespan startup
                return line.strip().rsplit(" ", 1)[-1]
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {output.read_text()}")


async def until_ready(url: str, seconds: float = 60.0) -> None:
    """Wait until the server at ``url`` (its /graphql URL) answers ``/healthz``: on a busy
    machine its start-up may outlast the second ``start_server`` waits."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    deadline = time.monotonic() + seconds
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            status = await reader.readline()
            writer.close()
            if b" 200 " in status:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server at {url} did not answer /healthz within {seconds:g} s")
        await asyncio.sleep(0.2)


async def serve_and_drive(
    data_dir: Path, audit: bool, token: str, codes: list[str], args: argparse.Namespace, workers: int = 1
) -> tuple[Measure, Measure | None]:
    """S1 on a fresh server of ``workers`` processes; with audit on and one worker, S2 on the
    same server after it."""
    process, url = start_server(data_dir, audit, workers)
    s2 = None
    try:
        await until_ready(url)
        measure = await bench_http(url, token, codes, args.connections, args.seconds)
        if audit and workers == 1:
            s2 = await bench_s2(url, token, codes, args.connections, args.seconds)
    finally:
        process.terminate()
        process.wait()
    measure.name = "gateway over HTTP, 3 departments, " + ("audit + voucher" if audit else "audit off")
    measure.name += f", {workers} workers" if workers > 1 else ""
    return measure, s2


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-"))
    build_demo(data_dir, ORGANIZATIONS, 1000)
    codes = organization_codes(ORGANIZATIONS)
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], "bench", 3600)

    async def direct() -> tuple[Measure, None]:
        return await bench_direct(data_dir, codes, args.connections, args.seconds), None

    phases = {
        "audited": lambda: serve_and_drive(data_dir, True, token, codes, args),
        "unaudited": lambda: serve_and_drive(data_dir, False, token, codes, args),
        "direct": direct,
        "workers": lambda: serve_and_drive(data_dir, True, token, codes, args, args.workers),
    }
    runs: dict[str, list[Measure]] = {name: [] for name in [*phases, "s2"]}
    order = list(phases)
    for round_ in range(args.rounds):  # interleaved and rotated: no phase always runs first
        for name in order[round_ % len(order) :] + order[: round_ % len(order)]:
            measure, s2 = await phases[name]()
            runs[name].append(measure)
            runs["s2"] += [s2] if s2 is not None else []
    subjects, trips = await round_trips_for_100(data_dir)
    report(args, [_median(runs[phase]) for phase in ("audited", "unaudited", "direct")], subjects, trips)
    report_s2(_median(runs["s2"]), _median(runs["audited"]))
    report_workers(args.workers, _median(runs["workers"]), _median(runs["audited"]))


def _median(measures: list[Measure]) -> Measure:
    return sorted(measures, key=lambda m: m.rate)[len(measures) // 2]


def report(args: argparse.Namespace, measures: list[Measure], subjects: int, trips: int) -> None:
    audited, unaudited, direct = measures
    phase = f"{args.connections} connections, {args.seconds:.0f} s per phase, median of {args.rounds} rounds"
    print(f"govshare bench: {phase}, one uvicorn worker")
    for measure in measures:
        print(measure.line())
    print(f"ratio gateway (audited) / direct SQL: {audited.rate / direct.rate:.2f}")
    print(f"ratio gateway (audit off) / direct SQL: {unaudited.rate / direct.rate:.2f}")
    print(f"ratio audit on / audit off: {audited.rate / unaudited.rate:.2f}")
    print(f"source round trips for one query of {subjects} organizations x 3 departments: {trips}")


def report_s2(s2: Measure, s1: Measure) -> None:
    print(s2.line())
    per_second = s2.rate * S2_SIZE
    print(f"S2 organizations/s: {per_second:.0f} (S1: {s1.rate:.0f}); ratio {per_second / s1.rate:.1f}")


def report_workers(workers: int, several: Measure, one: Measure) -> None:
    print(several.line())
    print(f"ratio {workers} workers / 1 worker (audit + voucher): {several.rate / one.rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="the workers phase's processes (default: cores)",
    )
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the same loop as the server
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
