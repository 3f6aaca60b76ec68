"""``python -m gateway.bench_compare``: compare / verify against the query of the same items.

In one run, on one ``govshare serve`` (one uvicorn worker, audit on, the demo with 10,000
organizations, compare rate limits lifted for the run), driven with ``--connections``
keep-alive connections through ``gateway.bench``'s load generator:

1. ``POST /compare``: one organization, 3 claims (name, status, registration date, the
   true values, written with other spellings: full-width digits, ``2020-1-5`` dates);
2. ``POST /graphql``: the query of the same 3 items of the same organization;
3. ``POST /compare`` batches of ``--batch`` requests (1000), a few connections.

The phases are interleaved over ``--rounds`` rounds (median reported) and the ratio
compare / query printed: compare should not be slower than reading the same items.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.auth import load_signer
from gateway.bench import HTTPConnection, Measure, _median, drive, start_server
from gateway.cli import loop_factory
from gateway.demo import HOUSING, build_demo, organization_codes

RESOURCE = "amr.enterprise_registration"
QUERY = """query Same($code: USCC!) {
  organization(code: $code) { enterpriseRegistration { name status registrationDate } }
}"""
ORGANIZATIONS = 10_000
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


class CompareConnection(HTTPConnection):
    """A compare answer always has ``errors`` (empty): good is 200 with no refusal in it."""

    def accepts(self, status: bytes, payload: bytes) -> bool:
        return b" 200 " in status and b'"code"' not in payload


def true_claims(data_dir: Path, codes: list[str]) -> dict[str, dict[str, str]]:
    """Each organization's stored name, status and date, spelt otherwise (all must match)."""
    uri = f"file:{data_dir / 'amr.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("SELECT uscc, ent_name, status, reg_date FROM enterprise").fetchall()
    wanted = set(codes)
    return {
        code: {"name": f" {name.translate(_FULL_WIDTH)} ", "status": status, "registration_date": _day(day)}
        for code, name, status, day in rows
        if code in wanted
    }


def _day(day: str) -> str:
    year, month, date = day.split("-")
    return f"{year}-{int(month)}-{int(date)}"


def pool_sender(
    url: str, path: str, headers: dict[str, str], connections: int, body: Callable[[str], bytes]
) -> Callable[[str], Awaitable[None]]:
    """``one(code)``: POST ``body(code)`` to ``path`` on a free connection of a pool."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    pool: asyncio.Queue[HTTPConnection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(CompareConnection(host, int(port), path, headers))

    async def one(code: str) -> None:
        connection = await pool.get()
        try:
            await connection.post(body(code))
        finally:
            pool.put_nowait(connection)

    return one


Claims = dict[str, dict[str, str]]


async def run_phases(url: str, token: str, claims: Claims, args: argparse.Namespace) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json",
               "X-Voucher": "off"}  # fmt: skip
    codes = sorted(claims)

    def single(code: str) -> bytes:
        return json.dumps({"resource": RESOURCE, "subject": code, "claims": claims[code]}).encode()

    def batch(code: str) -> bytes:
        start = codes.index(code) if len(codes) > args.batch else 0
        chosen = (codes * 2)[start : start + args.batch]
        requests = [{"resource": RESOURCE, "subject": c, "claims": claims[c]} for c in chosen]
        return json.dumps({"requests": requests}).encode()

    def query(code: str) -> bytes:
        return json.dumps({"query": QUERY, "variables": {"code": code}}).encode()

    n = args.connections
    phases = {  # path, connections, body; connections are opened anew for each run of a phase
        "compare": ("/compare", n, single),  # (an idle keep-alive connection is closed by the server)
        "query": ("/graphql", n, query),
        "batch": ("/compare", 2, batch),
    }
    for path, workers, body in phases.values():
        await drive("warm-up", pool_sender(url, path, headers, workers, body), codes[:50], workers, 1.0)
    runs: dict[str, list[Measure]] = {name: [] for name in phases}
    order = list(phases)
    for round_ in range(args.rounds):  # interleaved and rotated: no phase always runs first
        for name in order[round_ % 3 :] + order[: round_ % 3]:
            path, workers, body = phases[name]
            one = pool_sender(url, path, headers, workers, body)
            runs[name].append(await drive(name, one, codes, workers, args.seconds))
    report(args, *(_median(runs[name]) for name in phases))


def report(args: argparse.Namespace, compare: Measure, query: Measure, batch: Measure) -> None:
    print(f"govshare bench_compare: {args.connections} connections, {args.seconds:.0f} s per phase, "
          f"median of {args.rounds} rounds, one uvicorn worker, audit on")  # fmt: skip
    compare.name = "POST /compare, 1 organization, 3 claims"
    query.name = "POST /graphql, the same 3 items"
    batch.name = f"POST /compare, batches of {args.batch} (2 connections)"
    for measure in (compare, query, batch):
        print(measure.line())
    print(f"ratio compare / query: {compare.rate / query.rate:.2f}")
    print(f"batch: {batch.rate * args.batch:.0f} subjects/s compared ({batch.rate:.2f} batches/s)")


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-compare-"))
    build_demo(data_dir, ORGANIZATIONS, 1000)
    claims = true_claims(data_dir, organization_codes(ORGANIZATIONS))
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], "bench", 3600)
    lifted = str(10**9)  # the benchmark measures the work, not the limiter's refusals
    os.environ.update(GOVSHARE_COMPARE_RATE=lifted, GOVSHARE_COMPARE_BURST=lifted)
    process, url = start_server(data_dir, audit=True)
    try:
        await run_phases(url, token, claims, args)
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    description = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m gateway.bench_compare", description=description)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--batch", type=int, default=1000, help="requests per batch (phase 3)")
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:  # the same loop as the server
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
