"""``python -m gateway.bench_export``: a 1,000,000-row export over HTTP against its floor, in one run.

1. Builds the demo departments in a folder, then refills the market regulator's
   ``enterprise`` table (the source of ``amr.enterprise_registration``) with ``--rows``
   demo-like rows (valid USCCs across Wuhan's districts, names, capital, dates ...).
2. Starts ``govshare serve`` (one uvicorn worker, audit on) and exports the resource's
   unconditional items as NDJSON over HTTP, once with ``limit=100000`` and once whole,
   reading the server's RSS (``/proc/PID/status``: VmRSS while streaming, VmHWM the peak)
   after each: memory must stay flat whatever the row count.
3. The floor: plain ``sqlite3`` iterating the same columns of the same file in key order,
   ``orjson.dumps`` per row, in one process; run before and after the exports, the faster
   run counts (the ratio is then the less flattering one on a machine whose load changes).

Reports rows/s of each, the ratio gateway/floor (goal: at least 0.30) and the RSS figures.
Options: ``--rows`` (default 1,000,000), ``--data DIR`` (reuse a built folder).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import random
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson

from gateway.auth import load_signer
from gateway.bench import start_server
from gateway.demo import AMR_COLUMNS, HOUSING, WUHAN_DISTRICTS, build_demo
from policies.codes import USCC_CHARSET, org_code_check_char, uscc_check_char

RESOURCE = "amr.enterprise_registration"
ITEMS = ("name", "registered_capital", "status", "registration_date", "business_scope")
FLOOR_SQL = "SELECT uscc, ent_name, capital, status, reg_date, scope FROM enterprise ORDER BY uscc"
FLOOR_NAMES = ("uscc", "name", "registered_capital", "status", "registration_date", "business_scope")
_TRADES = ("科技", "贸易", "建设", "物流", "餐饮", "咨询", "医药", "电子", "文化", "农业")


def bulk_codes(count: int) -> Iterator[str]:
    """``count`` distinct valid USCCs (GB 32100-2015), quickly: the check characters are
    computed directly, without re-validating each code as ``make_uscc`` does."""
    radix = len(USCC_CHARSET)
    for i in range(count):
        digits, n = [], i
        for _ in range(6):
            n, rem = divmod(n, radix)
            digits.append(USCC_CHARSET[rem])
        base = "MA" + "".join(reversed(digits))
        first17 = "91" + WUHAN_DISTRICTS[i % 8] + base + org_code_check_char(base)
        yield first17 + uscc_check_char(first17)


def enterprise_rows(count: int, seed: int = 20261130) -> Iterator[tuple[Any, ...]]:
    """Demo-like rows of the ``enterprise`` table (columns ``gateway.demo.AMR_COLUMNS``)."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1)
    for i, code in enumerate(bulk_codes(count)):
        founded = dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(11_000))
        stamp = start + dt.timedelta(minutes=rng.randrange(460_000))
        yield (code, f"武汉{i}{rng.choice(_TRADES)}有限公司", "张三", rng.randrange(10, 10_000) * 10_000,
               rng.choice(("存续", "在业", "注销")), founded.isoformat(), f"武汉市某区某路{i % 999}号",
               "技术开发；技术咨询", f"内部核查记录{i}", stamp.isoformat())  # fmt: skip


def fill_enterprise(database: Path, count: int) -> None:
    """Replace the ``enterprise`` table of ``database`` with ``count`` generated rows."""
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute("DROP TABLE IF EXISTS enterprise")
        db.execute(f"CREATE TABLE enterprise ({', '.join(AMR_COLUMNS)}, PRIMARY KEY (uscc))")
        marks = ", ".join("?" for _ in AMR_COLUMNS)
        db.executemany(f"INSERT INTO enterprise VALUES ({marks})", enterprise_rows(count))
        db.execute("CREATE INDEX enterprise_updated ON enterprise (updated_at)")


def prepare(data_dir: Path, rows: int) -> None:
    """The demo folder with ``rows`` enterprises (kept when already built with that many)."""
    marker = data_dir / "bench-export.json"
    if marker.exists() and orjson.loads(marker.read_bytes()).get("rows") == rows:
        return
    build_demo(data_dir, organizations=300, persons=10)
    fill_enterprise(data_dir / "amr.db", rows)
    marker.write_bytes(orjson.dumps({"rows": rows}))


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak since start) of a process, in KiB (Linux /proc)."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def export_over_http(base: str, token: str, limit: int | None, pid: int) -> tuple[int, float, int]:
    """(rows, seconds, highest VmRSS seen while streaming in KiB) of one NDJSON export."""
    params: dict[str, Any] = {"items": ",".join(ITEMS)}
    if limit:
        params["limit"] = limit
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench"}
    rows, highest, began = 0, 0, time.perf_counter()
    with httpx.stream(
        "GET", f"{base}/export/{RESOURCE}", params=params, headers=headers, timeout=600
    ) as answer:
        answer.raise_for_status()
        for chunk in answer.iter_bytes(1 << 20):
            rows += chunk.count(b"\n")
            if rows % 50_000 < 2_000:  # now and then: reading /proc costs the client too
                highest = max(highest, memory_kib(pid)["VmRSS"])
    return rows, time.perf_counter() - began, max(highest, memory_kib(pid)["VmRSS"])


def floor(database: Path) -> tuple[int, float]:
    """Rows and seconds of plain sqlite3 + orjson per row over the same columns."""
    dumps, names = orjson.dumps, FLOOR_NAMES
    began, rows, size = time.perf_counter(), 0, 0
    with contextlib.closing(sqlite3.connect(database)) as db:
        for record in db.execute(FLOOR_SQL):
            size += len(dumps(dict(zip(names, record, strict=True))))
            rows += 1
    return rows, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.bench_export", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", default=None, help="data folder (default: a temp dir; reused if built)")
    args = parser.parse_args()
    data_dir = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-export-"))
    began = time.perf_counter()
    prepare(data_dir, args.rows)
    print(f"data: {args.rows:,} rows in {data_dir / 'amr.db'} ({time.perf_counter() - began:.0f} s to build)")
    token = load_signer(data_dir).issue(HOUSING.code, ["consumer"], "bench", 3600)
    process, url = start_server(data_dir, audit=True)
    try:
        run(data_dir, process, url.rsplit("/graphql", 1)[0], token, args.rows)
    finally:
        process.terminate()
        process.wait()


def run(data_dir: Path, process: subprocess.Popen[str], base: str, token: str, total: int) -> None:
    small = min(100_000, total)
    idle = memory_kib(process.pid)["VmRSS"]
    floor_before = floor(data_dir / "amr.db")  # before and after: the faster one is the floor
    first = export_over_http(base, token, small, process.pid)
    peak_small = memory_kib(process.pid)["VmHWM"]
    whole = export_over_http(base, token, None, process.pid)
    peak_whole = memory_kib(process.pid)["VmHWM"]
    floor_rows, floor_seconds = min(floor_before, floor(data_dir / "amr.db"), key=lambda run: run[1])
    assert first[0] == small and whole[0] == total == floor_rows, (first[0], whole[0], floor_rows)
    rate, floor_rate = whole[0] / whole[1], floor_rows / floor_seconds
    print(f"govshare bench_export: {RESOURCE}, {len(ITEMS) + 1} columns, NDJSON over HTTP, audit on")
    print(f"server RSS idle {idle / 1024:.1f} MiB")
    print(f"export {small:>9,} rows: {first[0] / first[1]:>9,.0f} rows/s  RSS while streaming "
          f"{first[2] / 1024:.1f} MiB, peak (VmHWM) {peak_small / 1024:.1f} MiB")  # fmt: skip
    print(f"export {total:>9,} rows: {rate:>9,.0f} rows/s  RSS while streaming "
          f"{whole[2] / 1024:.1f} MiB, peak (VmHWM) {peak_whole / 1024:.1f} MiB")  # fmt: skip
    print(f"floor (sqlite3 + orjson per row, one process, the faster of a run before and after): "
          f"{floor_rate:,.0f} rows/s")  # fmt: skip
    print(f"ratio export / floor: {rate / floor_rate:.2f} (goal >= 0.30)")
    print(f"peak RSS growth from {small:,} to {total:,} rows: {(peak_whole - peak_small) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
