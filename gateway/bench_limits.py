"""``python -m gateway.bench_limits``: does one abusive client slow everyone else down?

Builds the demo (1,000 organizations), starts ``govshare serve`` (one uvicorn worker,
audit on) and measures a normal query (one organization across 3 departments, code in
variables) from ``--connections`` keep-alive connections:

- idle: the normal clients alone;
- under attack: the same, while one more client sends the issue's abusive requests in a
  loop, each fresh (no cache can help): a 2 MB document of fresh aliases, a document of
  10,000 aliases of one conditional item, one just under the body limit, one of 380
  repeated fields, fresh documents just under the token limit that exceed the alias
  limit, fragments nested past the parser's recursion limit, and batches of 21.

Phases alternate over ``--rounds`` rounds; the medians are reported with the ratio of the
normal query's p99 under attack to its idle p99 (the goal: at most 1.5).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from gateway.auth import load_signer
from gateway.bench import Measure, drive, query_sender, start_server
from gateway.cli import loop_factory
from gateway.demo import HOUSING, build_demo, organization_codes

ORGANIZATIONS = 1_000
ORG = "organization(code: $code)"


def abusive_bodies(code: str, only: str = "") -> Iterator[tuple[str, bytes]]:
    """Endless fresh abusive requests, kind after kind: every document text is new."""
    fresh = itertools.count()
    big: dict[int, bytes] = {}

    def one(query: str) -> bytes:
        return json.dumps({"query": query, "variables": {"code": code}}).encode()

    kinds: dict[str, Callable[[int], bytes]] = {
        "2 MB of fresh aliases": lambda n: (
            one(
                f"query($code: USCC!) {{ {ORG} {{ "
                + " ".join(f"a{n}_{i}: enterpriseRegistration {{ name }}" for i in range(55_000))
                + " } }"
            )
            if n < 6 * 8  # eight distinct ones, then the same texts again: refused unread anyway
            else big[n % 8]
        ),
        "10,000 aliases of a conditional item": lambda n: one(
            f"query($code: USCC!) {{ {ORG} {{ enterpriseRegistration {{ "
            + " ".join(f"a{n}_{i}: legalRepresentative" for i in range(10_000))
            + " } } }"
        ),
        "380 repeated fields": lambda n: one(
            f"query Q{n}($code: USCC!) {{ {ORG} {{ enterpriseRegistration {{ {'name ' * 380}}} }} }}"
        ),
        "fresh aliases at the token limit": lambda n: one(
            f"query($code: USCC!) {{ {ORG} {{ enterpriseRegistration {{ "
            + " ".join(f"a{n}_{i}: name" for i in range(320))
            + " } } }"
        ),
        "fragments nested 250 deep": lambda n: one(
            f"query Q{n}($code: USCC!) {{ {ORG} {{ ...F0 }} }} "
            + " ".join(f"fragment F{i} on Organization {{ code ...F{i + 1} }}" for i in range(250))
            + " fragment F250 on Organization { code }"
        ),
        "a batch of 21": lambda n: json.dumps(
            [{"query": f"query Q{n}_{i} {{ __typename }}"} for i in range(21)]
        ).encode(),
    }
    chosen = {kind: make for kind, make in kinds.items() if only in kind} or kinds
    while True:
        for kind, make in chosen.items():
            n = next(fresh)
            body = make(n)
            if kind.startswith("2 MB") and n < 6 * 8:
                big[n % 8] = body
            yield kind, body


PREPARED = 1_200  # requests built before the clock starts (fresh texts; the 2 MB ones cycle)


def attack(url: str, token: str, code: str, seconds: float, sent: Any, ready: Any, only: str) -> None:
    """One client in its own process, its requests built beforehand (building 2 MB
    documents while measuring would slow the machine, not the gateway), sending one
    request at a time, as fast as the gateway answers."""
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json",
               "Accept": "application/graphql-response+json"}  # fmt: skip
    made = abusive_bodies(code, only)
    prepared = [next(made) for _ in range(PREPARED)]
    ready.set()
    stop = time.perf_counter() + seconds
    with httpx.Client(timeout=60) as client:
        for kind, body in itertools.cycle(prepared):
            if time.perf_counter() >= stop:
                break
            response = client.post(url, content=body, headers=headers)
            if response.status_code not in (400, 413, 429):
                raise RuntimeError(f"{kind}: expected a refusal, got {response.status_code}")
            sent.value += 1


async def normal(
    url: str, token: str, codes: list[str], connections: int, seconds: float, name: str
) -> Measure:
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json",
               "X-Voucher": "off"}  # fmt: skip
    return await drive(name, query_sender(url, headers, connections), codes, connections, seconds)


async def phase(url: str, token: str, codes: list[str], args: argparse.Namespace, attacked: bool) -> Measure:
    if not attacked:
        return await normal(url, token, codes, args.connections, args.seconds, "normal query, idle")
    sent, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    attacker = multiprocessing.Process(
        target=attack, args=(url, token, codes[0], args.seconds + 0.5, sent, ready, args.kinds)
    )
    attacker.start()
    while not ready.is_set():  # a process event: polled, not awaited
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # the attacker is sending before the clock starts
    measure = await normal(url, token, codes, args.connections, args.seconds, "normal query, under attack")
    attacker.join()
    if attacker.exitcode != 0:
        raise RuntimeError("the attacking client failed: see its traceback above")
    measure.name += f" ({sent.value} refused)"
    return measure


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-limits-"))
    build_demo(data_dir, ORGANIZATIONS, 100)
    codes = organization_codes(ORGANIZATIONS)
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], "bench", 3600)
    process, url = start_server(data_dir, audit=True)
    runs: dict[bool, list[Measure]] = {False: [], True: []}
    try:
        await normal(url, token, codes, args.connections, 1.0, "warm-up")
        for round_ in range(args.rounds):  # alternate, and rotate which runs first
            for under_attack in (round_ % 2 == 1, round_ % 2 == 0):
                runs[under_attack].append(await phase(url, token, codes, args, under_attack))
    finally:
        process.terminate()
        process.wait()
    idle, attacked = (_median_p99(runs[False]), _median_p99(runs[True]))
    print(f"govshare limits bench: {args.connections} normal connections, {args.seconds:.0f} s per phase, "
          f"median of {args.rounds} rounds, one uvicorn worker, audit on")  # fmt: skip
    print(idle.line())
    print(attacked.line())
    print(f"ratio p99 under attack / p99 idle: {attacked.percentile(0.99) / idle.percentile(0.99):.2f}")
    print(f"ratio p50 under attack / p50 idle: {attacked.percentile(0.5) / idle.percentile(0.5):.2f}")


def _median_p99(measures: list[Measure]) -> Measure:
    return sorted(measures, key=lambda m: m.percentile(0.99))[len(measures) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.bench_limits", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported")
    parser.add_argument("--kinds", default="", help="only the abusive kinds whose name contains this")
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
