"""Connector kinds compared: one batch of subjects read from the same rows four ways.

    python -m gateway.bench_connectors [--rows 10000] [--keys 100] [--rounds 30]

Sources, each holding ``--rows`` enterprise rows: a SQLite file (sql), a REST API
(gateway/demo_rest.py under uvicorn on 127.0.0.1, in a thread of this process) read through
its batch endpoint and through one GET per key (http, concurrency 8), and a CSV file
(file). Each round fetches ``--keys`` random keys (all existing) for three items; printed:
median milliseconds per fetch and the ratio to sql, measured in this one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import random
import socket
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from connectors.base import Binding, Connector, open_connector
from gateway.demo import organization_codes
from gateway.demo_rest import Table, rest_app

ITEMS = ["name", "status", "capital"]
COLUMNS = ["uscc", "name", "status", "capital", "updated_at"]


def rows_of(count: int) -> list[dict[str, Any]]:
    return [
        {
            "uscc": code,
            "name": f"企业{i}",
            "status": "存续",
            "capital": i * 1000,
            "updated_at": "2026-01-01T00:00:00",
        }
        for i, code in enumerate(organization_codes(count))
    ]


def write_sources(folder: Path, rows: list[dict[str, Any]]) -> None:
    with contextlib.closing(sqlite3.connect(folder / "amr.db")) as db, db:
        db.execute(f"CREATE TABLE enterprise ({', '.join(COLUMNS)}, PRIMARY KEY (uscc))")
        db.executemany("INSERT INTO enterprise VALUES (?, ?, ?, ?, ?)", [tuple(r.values()) for r in rows])
    with (folder / "enterprise.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


@contextlib.contextmanager
def rest_service(rows: list[dict[str, Any]]) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    app = rest_app({"enterprise": Table.of("uscc", "updated_at", rows)})
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sources(folder: Path, url: str) -> dict[str, tuple[Connector, Binding]]:
    scan = {"url": "enterprise/records", "rows": "$.items"}
    made: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "sql": ({"kind": "sql", "url": "sqlite+aiosqlite:///{data}/amr.db"}, {"table": "enterprise"}),
        "http batch": ({"kind": "http", "base_url": url},
                       {"batch": {"url": "enterprise/lookup", "rows": "$.items"}, "scan": scan}),
        "http per key": ({"kind": "http", "base_url": url, "concurrency": 8},
                         {"get": "enterprise/records/{key}", "record": "$.data", "scan": scan}),
        "file": ({"kind": "file"}, {"file": "enterprise.csv", "types": {"capital": "integer"}}),
    }  # fmt: skip
    opened = {}
    for name, (settings, source) in made.items():
        connector = open_connector(settings, folder)
        opened[name] = (connector, connector.bind(source, ["uscc", *ITEMS], "uscc"))
    return opened


async def measure(connector: Connector, binding: Binding, batches: list[list[str]]) -> float:
    await connector.fetch(binding, batches[0], ITEMS)  # warm: pool, file index
    times = []
    for keys in batches:
        started = time.perf_counter()
        rows = await connector.fetch(binding, keys, ITEMS)
        times.append(time.perf_counter() - started)
        assert len(rows) == len(set(keys)), "a source lost rows"
    return statistics.median(times) * 1000


async def run(rows: int, keys: int, rounds: int) -> None:
    data = rows_of(rows)
    codes = [r["uscc"] for r in data]
    batches = [random.Random(i).sample(codes, keys) for i in range(rounds)]
    with tempfile.TemporaryDirectory() as where, rest_service(data) as url:
        folder = Path(where)
        write_sources(folder, data)
        opened = sources(folder, url)
        try:
            results = {name: await measure(c, b, batches) for name, (c, b) in opened.items()}
        finally:
            for connector, _ in opened.values():
                await connector.close()
    print(f"fetch of {keys} keys x {len(ITEMS)} items from {rows} rows, median of {rounds} rounds:")
    for name, ms in results.items():
        print(f"  {name:<13} {ms:8.2f} ms   {ms / results['sql']:6.2f}x sql")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.rows, args.keys, args.rounds))


if __name__ == "__main__":
    main()
