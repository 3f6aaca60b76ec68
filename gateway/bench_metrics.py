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
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from gateway.auth import load_signer
from gateway.bench import Measure, _median, _wait_for_url, bench_http
from gateway.cli import loop_factory
from gateway.demo import HOUSING, build_demo, organization_codes

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
        found = await bench_http(url, token, codes, args.connections, args.seconds)
    finally:
        process.terminate()
        process.wait()
    found.name = f"gateway over HTTP, metrics {variant}"
    return found


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
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
