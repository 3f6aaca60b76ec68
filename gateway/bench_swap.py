"""``python -m gateway.bench_swap``: what a catalog swap costs on the demo catalog, in one run.

Builds the demo (``--organizations``, default 1,000), starts the gateway in this process
behind uvicorn on 127.0.0.1 (a random port; the swap is ``Gateway.swap_catalog``, what the
catalog store's publish path calls) and drives the one-organization query (amr's name,
variables) from ``--clients`` keep-alive clients. Then ``--swaps`` swaps alternate between
the demo catalog and an edited one (a new resource read from amr's table, amr's
``business_scope`` withdrawn: so every swap rebuilds the schema, binds two resources and
retires amr's cached rows), one every ``--gap`` seconds, under the same load.

Reported: each swap's time (validation to the swap itself; the schema build, in a worker
thread, part of it), median and max; the event loop's longest stall (a 5 ms ticker's
longest gap) during swaps and between them; the latency (p50, p99, max) of requests sent
while a swap ran and of the others (by start time: a slow request is not counted as "during"
merely because it lasted long enough to meet a swap); failed requests (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import uvicorn
import yaml

from gateway.app import Gateway, create_app
from gateway.demo import BIGDATA, DRC, GRANT_PURPOSE, build_demo, organization_codes
from gateway.settings import Settings
from policies.catalog import Catalog, load_catalog

QUERY = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }"


def edited_catalog(data_dir: Path) -> Catalog:
    """The demo catalog with a resource added (``amr.enterprise_brief``) and amr's
    ``business_scope`` withdrawn, written next to it and loaded."""
    data = yaml.safe_load((data_dir / "catalog.yaml").read_text(encoding="utf-8"))
    amr = next(r for r in data["resources"] if r["id"] == "amr.enterprise_registration")
    for item in amr["items"]:
        if item["name"] == "business_scope":
            item.update(share="not_shared", basis="bench: withdrawn")
    brief = {key: amr[key] for key in ("provider", "subject", "key", "category", "update_cycle")}
    items = [{"name": "uscc", "title": "统一社会信用代码"}, {"name": "name", "title": "企业名称"}]
    brief.update(id="amr.enterprise_brief", code="420100-AMR-ENTERPRISE_BRIEF", name="企业简况",
                 modes=["query"], source={"table": "enterprise", "columns": {"name": "ent_name"}},
                 items=items)  # fmt: skip
    data["resources"].append(brief)
    path = data_dir / "catalog-edited.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_catalog(path)


@dataclass
class Load:
    """Every request's (start, end) in perf_counter seconds, and the failures."""

    spans: list[tuple[float, float]] = field(default_factory=list)
    ticks: list[tuple[float, float]] = field(default_factory=list)  # (end, gap) of the loop ticker
    failed: int = 0
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def client(url: str, headers: dict[str, str], codes: list[str], load: Load) -> None:
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        turn = 0
        while not load.stop.is_set():
            body = {"query": QUERY, "variables": {"c": codes[turn % len(codes)]}}
            turn += 1
            started = time.perf_counter()
            answer = await http.post("/graphql", json=body)
            load.spans.append((started, time.perf_counter()))
            if answer.status_code != 200 or "errors" in answer.json():
                load.failed += 1


async def ticker(load: Load) -> None:
    """The event loop's responsiveness: each gap between 5 ms sleeps (a stall shows as a long gap)."""
    last = time.perf_counter()
    while not load.stop.is_set():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        load.ticks.append((now, now - last))
        last = now


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-swap-"))
    build_demo(data_dir, args.organizations, 100)
    settings = Settings.load({}, data=str(data_dir))
    gateway = await Gateway.start(settings)
    catalogs = [edited_catalog(data_dir), gateway.catalog]
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    token = gateway.signer.issue(DRC.code, ["consumer"], "bench", 3600)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(GRANT_PURPOSE)}
    load, codes = Load(), organization_codes(args.organizations)
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        clients = [asyncio.create_task(client(url, headers, codes, load)) for _ in range(args.clients)]
        clients.append(asyncio.create_task(ticker(load)))
        await asyncio.sleep(args.gap)  # warm: every client under way
        swaps = []
        for n in range(args.swaps):
            began = time.perf_counter()
            swap = await gateway.swap_catalog(catalogs[n % 2])
            swaps.append((began, time.perf_counter(), swap.seconds, swap.build_seconds))
            await asyncio.sleep(args.gap)
        load.stop.set()
        await asyncio.gather(*clients)
    finally:
        server.should_exit = True
        await serving
        sock.close()
        await gateway.close()
    report(args, load, swaps)


def _latencies(spans: list[tuple[float, float]]) -> str:
    ms = sorted((end - start) * 1000 for start, end in spans)
    p99 = _p99(spans) * 1000
    return f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} requests)"


def _p50(spans: list[tuple[float, float]]) -> float:
    return statistics.median(end - start for start, end in spans)


def _p99(spans: list[tuple[float, float]]) -> float:
    ms = sorted(end - start for start, end in spans)
    return ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def report(args: argparse.Namespace, load: Load, swaps: list[tuple[float, float, float, float]]) -> None:
    def during(moment: float) -> bool:
        return any(began <= moment <= end for began, end, _, _ in swaps)

    overlapping = [s for s in load.spans if during(s[0])]
    apart = [s for s in load.spans if not during(s[0])]
    stalls = [gap for end, gap in load.ticks if during(end) or during(end - gap)]
    calm = [gap for end, gap in load.ticks if not (during(end) or during(end - gap))]
    took = [seconds * 1000 for _, _, seconds, _ in swaps]
    built = [build * 1000 for _, _, _, build in swaps]
    print(f"govshare bench_swap: demo catalog ({args.organizations} organizations), {args.swaps} swaps "
          f"every {args.gap:g} s, {args.clients} clients, in process (operator {BIGDATA.code})")  # fmt: skip
    print(f"swap time: median {statistics.median(took):.1f} ms, max {max(took):.1f} ms "
          f"(schema build median {statistics.median(built):.1f} ms)")  # fmt: skip
    if stalls:
        print(f"event loop's longest stall: during swaps {max(stalls) * 1000:.1f} ms, "
              f"between swaps {max(calm) * 1000:.1f} ms")  # fmt: skip
    print(f"requests sent between swaps: {_latencies(apart)}")
    if overlapping:
        print(f"requests sent during a swap: {_latencies(overlapping)}")
        print(f"ratio p50 during / between: {_p50(overlapping) / _p50(apart):.2f}")
    print(f"failed requests: {load.failed}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench_swap", description=__doc__.split("\n")[0])
    parser.add_argument("--organizations", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--swaps", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between swaps")
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
