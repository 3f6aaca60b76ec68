"""``python -m gateway.bench_metrics``: what counting for ``/metrics`` costs, in one run.

Builds the demo (10,000 organizations), then for each variant starts ``govshare serve`` (one
uvicorn worker, audit and vouchers on, the defaults) and drives it with the query of
``gateway.bench`` (one organization across 3 departments, codes rotating) from
``--connections`` keep-alive connections for ``--seconds``:

- ``off``: ``GOVSHARE_METRICS=off`` (no middleware, every record call returns at once);
- ``on``: the default, values in process memory;
- ``on, multiprocess``: ``PROMETHEUS_MULTIPROC_DIR`` set, values in memory-mapped files, as
  under ``serve --workers N``.

Variants are interleaved and rotated over ``--rounds`` (median reported), and the ratios
on / off are printed. Each request records one request count and latency, one count and
latency per source round trip, row cache lookups and, per audit batch, queue and commit.

On a shared, loaded machine the HTTP figures move by more than the cost measured, so the
run also measures it directly, in CPU time (``time.process_time``): the request middleware
around an app that answers at once, plus the record calls of one request of the bench's
query (3 source round trips with their row cache lookups, one audit batch), ``--calls``
times with metrics on and off, in this process and in a child with
``PROMETHEUS_MULTIPROC_DIR`` set (memory-mapped values). ``--cpu-only`` runs just that.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gateway.auth import load_signer
from gateway.bench import Measure, _median, _wait_for_url, bench_http, until_ready
from gateway.cli import loop_factory
from gateway.demo import HOUSING, build_demo, organization_codes
from gateway.metrics_endpoint import RequestMetrics
from resolvers import metrics

ORGANIZATIONS = 10_000
VARIANTS = ("off", "on", "on, multiprocess")


def start(data_dir: Path, variant: str) -> tuple[subprocess.Popen[str], str]:
    """``govshare serve`` with metrics as ``variant`` says; output to a file."""
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(data_dir), "--port", "0"]
    env = {
        **os.environ,
        "GOVSHARE_LOG_LEVEL": "warning",
        "GOVSHARE_METRICS": "off" if variant == "off" else "on",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if variant.endswith("multiprocess"):
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="govshare-prom-")
    output = data_dir / f"serve-metrics-{variant.replace(', ', '-')}.log"
    with output.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True, env=env)
    return process, _wait_for_url(process, output)


async def measure(
    data_dir: Path, variant: str, token: str, codes: list[str], args: argparse.Namespace
) -> Measure:
    process, url = start(data_dir, variant)
    try:
        await until_ready(url)  # a loaded machine may take longer than the start-up wait
        found = await bench_http(url, token, codes, args.connections, args.seconds)
    finally:
        process.terminate()
        process.wait()
    found.name = f"gateway over HTTP, metrics {variant}"
    return found


async def _answer_at_once(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _nothing() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _sent(message: Any) -> None:
    return None


async def one_request(app: RequestMetrics) -> None:
    """What metrics record for one request of the bench's query."""
    await app({"type": "http", "method": "POST", "path": "/graphql", "state": {}}, _nothing, _sent)
    for department in ("11420100MB0001011L", "11420100MB000102XC", "11420100MB0001062H"):
        metrics.cache_lookup("amr.enterprise_registration", 0, 1)
        metrics.source_call(department, "answered", 0.002)
    metrics.audit_batch(1, 0.003, 0)


async def cpu_per_request(calls: int) -> dict[bool, float]:
    """Microseconds of CPU per request spent recording, metrics off and on."""
    app, spent = RequestMetrics(_answer_at_once), {}
    for on in (False, True, False, True):  # twice each, alternated: the later figure is kept
        metrics.switch(on)
        started = time.process_time()
        for _ in range(calls):
            await one_request(app)
        spent[on] = (time.process_time() - started) / calls * 1e6
    metrics.switch(True)
    return spent


def cpu_report(calls: int) -> list[str]:
    """The CPU figures of this process and of a child in multiprocess mode."""
    lines = [_cpu_line("one process", asyncio.run(cpu_per_request(calls)))]
    with tempfile.TemporaryDirectory(prefix="govshare-prom-") as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        command = [sys.executable, "-m", "gateway.bench_metrics", "--cpu-only", "--calls", str(calls)]
        child = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    lines.append(child.stdout.strip().splitlines()[-1].replace("one process", "multiprocess"))
    return lines


def _cpu_line(mode: str, spent: dict[bool, float]) -> str:
    return (f"recording CPU per request, {mode}: off {spent[False]:.1f} us, on {spent[True]:.1f} us, "
            f"cost {spent[True] - spent[False]:.1f} us")  # fmt: skip


async def main_async(args: argparse.Namespace) -> None:
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-"))
    build_demo(data_dir, ORGANIZATIONS, 1000)
    codes = organization_codes(ORGANIZATIONS)
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], "bench", 3600)
    runs: dict[str, list[Measure]] = {variant: [] for variant in VARIANTS}
    for round_ in range(args.rounds):  # interleaved and rotated: no variant always runs first
        shift = round_ % len(VARIANTS)
        for variant in VARIANTS[shift:] + VARIANTS[:shift]:
            runs[variant].append(await measure(data_dir, variant, token, codes, args))
    medians = {variant: _median(runs[variant]) for variant in VARIANTS}
    print(f"govshare bench_metrics: {args.connections} connections, {args.seconds:.0f} s per variant, "
          f"median of {args.rounds} rounds, one uvicorn worker, audit + vouchers on")  # fmt: skip
    for found in medians.values():
        print(found.line())
    off = medians["off"]
    for variant in VARIANTS[1:]:
        on = medians[variant]
        print(f"ratio metrics {variant} / off: requests/s {on.rate / off.rate:.3f}, "
              f"p99 {on.percentile(0.99) / off.percentile(0.99):.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.bench_metrics", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--data", default=None, help="data folder to build the demo in (default: a temp dir)")
    parser.add_argument("--calls", type=int, default=20_000, help="requests recorded for the CPU figure")
    parser.add_argument("--cpu-only", action="store_true", help="only the CPU cost of recording")
    args = parser.parse_args()
    if args.cpu_only:
        print(_cpu_line("one process", asyncio.run(cpu_per_request(args.calls))))
        return
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main_async(args))
    for line in cpu_report(args.calls):
        print(line)


if __name__ == "__main__":
    main()
