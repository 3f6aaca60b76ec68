"""``python -m gateway.bench_disputes``: what the disputed marks cost a query, in one run.

The demo gateway in process (audit off: the audit's cost is ``gateway.bench``'s subject),
the query of ``gateway.bench`` (one organization across 3 departments, codes rotating),
executed back to back through the schema in three interleaved phases:

- ``off``: no objection service (the schema extension returns at once);
- ``none open``: the service on, no open objection (one lookup per operation, nothing found);
- ``open``: the service on, an open objection on every subject read (marks built).

Prints operations/s (median of the rounds) and each phase's ratio to ``off``.
Options: ``--operations`` per phase and round (default 2000), ``--rounds`` (3), ``--data``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway.app import Gateway
from gateway.bench import QUERY
from gateway.demo import AMR, HOUSING, build_demo, organization_codes
from gateway.settings import Settings
from policies.decision import Consumer
from policies.objections import Outcome, Raised
from policies.workflow import Actor
from resolvers.context import RequestContext

ORGANIZATIONS = 200
PURPOSE = "行政审批核验"


async def run_phase(gateway: Gateway, codes: list[str], operations: int) -> float:
    """Operations per second of ``QUERY`` over ``codes``, one after another."""
    consumer = Consumer(HOUSING.code, "bench", frozenset({"consumer"}))
    started = time.perf_counter()
    for n in range(operations):
        context = RequestContext(gateway.federation, consumer, purpose=PURPOSE)
        result = await gateway.schema.execute(QUERY, {"code": codes[n % len(codes)]}, context_value=context)
        assert not result.errors, result.errors
    return operations / (time.perf_counter() - started)


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-disputes-"))
    build_demo(data_dir, ORGANIZATIONS, 10)
    codes = organization_codes(ORGANIZATIONS)
    gateway = await Gateway.start(Settings.load({"GOVSHARE_AUDIT": "off"}, data=str(data_dir)))
    service = gateway.federation.objections
    rates: dict[str, list[float]] = {name: [] for name in PHASES}
    try:
        await run_phase(gateway, codes, args.operations // 4)  # warm-up: caches, connections
        for round_ in range(args.rounds):  # interleaved and rotated: no phase always runs first
            order = PHASES[round_ % 3 :] + PHASES[: round_ % 3]
            for name in order:
                rates[name].append(await _phase(gateway, service, name, codes, args.operations))
    finally:
        gateway.federation.objections = service
        await gateway.close()
    report(args, {name: sorted(found)[len(found) // 2] for name, found in rates.items()})


PHASES = ("off", "none open", "open")


async def _phase(gateway: Gateway, service: Any, name: str, codes: list[str], operations: int) -> float:
    gateway.federation.objections = None if name == "off" else service
    opened = await _open_on_all(gateway, codes) if name == "open" else []
    try:
        return await run_phase(gateway, codes, operations)
    finally:
        await _answer_all(gateway, opened)


async def _open_on_all(gateway: Gateway, codes: list[str]) -> list[str]:
    service: Any = gateway.federation.objections
    raiser = Actor(Consumer(HOUSING.code, "bench", frozenset({"consumer"})))
    rows = [
        await service.raise_objection(
            raiser, Raised("amr.enterprise_registration", c, "name", "bench"), PURPOSE
        )
        for c in codes
    ]
    return [row.id for row in rows]


async def _answer_all(gateway: Gateway, ids: list[str]) -> None:
    service: Any = gateway.federation.objections
    provider = Actor(Consumer(AMR.code, "bench", frozenset({"provider"})))
    for oid in ids:
        await service.answer(provider, oid, Outcome.CONFIRMED, "bench")


def report(args: argparse.Namespace, rates: dict[str, float]) -> None:
    print(
        f"disputed marks, {args.operations} operations x {args.rounds} rounds (median), in process, audit off"
    )
    for name, rate in rates.items():
        print(f"  {name:10s} {rate:8.0f} operations/s   ratio to off {rate / rates['off']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.bench_disputes", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--operations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
