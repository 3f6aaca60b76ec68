"""A department's REST API, small but real: the demo's housing provident fund centre.

``rest_app(tables)`` serves each table (records as JSON objects, each with its key and
change stamp fields) under four routes, the shape the demo catalog's ``kind: http``
connector is configured for (see README, "Connectors")::

    GET  /{table}/records/{key}               -> {"data": record}      404: no such subject
    POST /{table}/lookup    {"keys": [...]}   -> {"items": [record, ...]}  (unknown keys left out)
    GET  /{table}/records?after=&since=&limit= -> {"items": [record, ...]}  ordered by key
    GET  /{table}/freshness                   -> {"updated_at": latest stamp or null}

An unknown table is 404 on every route. ``generous=True`` makes it answer more than asked,
as real APIs do (the connector contract tests use it): a lookup adds a record that was not
asked for, a scan adds rows past ``limit`` and the row at ``after``, a single GET trims
the key it is given (so ``'K1 '`` finds K1). Records always carry every field they hold,
shared or not: cutting them down is the connector's work.

``govshare demo`` starts it on 127.0.0.1 next to the gateway, over ``hpf.json`` in the data
folder (``write_demo_data``). Starlette and uvicorn, as the gateway itself.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.records import as_stamp, read_stamp

DEMO_FILE = "hpf.json"
HPF_TABLE = "deposits"
MAX_SCAN = 1000  # rows one scan answers at most, whatever `limit` asks


@dataclass(frozen=True)
class Table:
    """Records by key (``key`` field) in key order; ``stamp`` names the change stamp field."""

    key: str
    stamp: str | None
    records: Mapping[str, Mapping[str, Any]]
    keys: tuple[str, ...]

    @classmethod
    def of(cls, key: str, stamp: str | None, records: Sequence[Mapping[str, Any]]) -> Table:
        by_key = {str(record[key]): record for record in records}
        return cls(key, stamp, by_key, tuple(sorted(by_key)))

    def since(self, record: Mapping[str, Any], since: dt.datetime | None) -> bool:
        if since is None or self.stamp is None:
            return True
        stamp = as_stamp(record.get(self.stamp))  # naive China time, an offset converted
        return stamp is not None and stamp >= since


def rest_app(tables: dict[str, Table], *, generous: bool = False) -> Starlette:
    """The API over ``tables`` (a dict: tests may add tables while it runs)."""

    def table_of(request: Request) -> Table | None:
        return tables.get(request.path_params["table"])

    async def one(request: Request) -> JSONResponse:
        table, key = table_of(request), request.path_params["key"]
        key = key.strip() if generous else key
        if table is None or key not in table.records:
            return JSONResponse({"error": "not found"}, 404)
        return JSONResponse({"data": table.records[key]})

    async def lookup(request: Request) -> JSONResponse:
        table = table_of(request)
        if table is None:
            return JSONResponse({"error": "no such table"}, 404)
        try:
            body = json.loads(await request.body())
        except (ValueError, RecursionError):
            body = None
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list):
            return JSONResponse({"error": 'send {"keys": [...]}'}, 400)
        found = [table.records[k] for k in keys if isinstance(k, str) and k in table.records]
        if generous and table.keys:
            found.append(table.records[table.keys[-1]])  # one nobody asked for
        return JSONResponse({"items": found})

    async def scan(request: Request) -> JSONResponse:
        table = table_of(request)
        if table is None:
            return JSONResponse({"error": "no such table"}, 404)
        try:
            after, since, limit = _scan_arguments(request)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        start = 0 if after is None else bisect.bisect_right(table.keys, after)
        start = max(start - 1, 0) if generous and after is not None else start
        wanted = limit + 3 if generous else limit
        rows = (table.records[k] for k in table.keys[start:])
        return JSONResponse({"items": _first(rows, table, since, wanted)})

    async def freshness(request: Request) -> JSONResponse:
        table = table_of(request)
        if table is None:
            return JSONResponse({"error": "no such table"}, 404)
        stamps = [r.get(table.stamp) for r in table.records.values()] if table.stamp else []
        latest = max((s for s in map(as_stamp, stamps) if s is not None), default=None)
        return JSONResponse({"updated_at": latest.isoformat() if latest else None})

    return Starlette(
        routes=[
            Route("/{table}/records/{key}", one, methods=["GET"]),
            Route("/{table}/lookup", lookup, methods=["POST"]),
            Route("/{table}/records", scan, methods=["GET"]),
            Route("/{table}/freshness", freshness, methods=["GET"]),
        ]
    )


def _scan_arguments(request: Request) -> tuple[str | None, dt.datetime | None, int]:
    query = request.query_params
    since = read_stamp(query["since"]) if query.get("since") else None
    limit = min(int(query.get("limit", "100")), MAX_SCAN)
    return query.get("after"), since, limit


def _first(rows: Any, table: Table, since: dt.datetime | None, count: int) -> list[Any]:
    found: list[Any] = []
    for record in rows:
        if len(found) >= count:
            break
        if table.since(record, since):
            found.append(record)
    return found


# --- the demo's data ------------------------------------------------------------------


def write_demo_data(data_dir: Path, organizations: Sequence[str], seed: int = 20261130) -> None:
    """``hpf.json``: one deposit record per organization (status, covered employees, last
    month paid, an internal remark the catalog does not share, a change stamp)."""
    rng = random.Random(seed)
    records = [_deposit(code, i, rng) for i, code in enumerate(organizations)]
    (data_dir / DEMO_FILE).write_text(json.dumps({HPF_TABLE: records}, ensure_ascii=False), encoding="utf-8")


def _deposit(code: str, i: int, rng: random.Random) -> dict[str, Any]:
    month = dt.date(2026, 1, 1) - dt.timedelta(days=31 * rng.randrange(0, 12))
    stamp = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=rng.randrange(460_000))
    return {
        "unit": {"uscc": code, "account": f"HPF{i:08d}"},
        "deposit": {"status": rng.choice(("正常缴存", "正常缴存", "缓缴", "封存")),
                    "employees": rng.randrange(1, 2000), "last_month": month.strftime("%Y-%m")},
        "internal_remark": f"内部稽核备注{i}",
        "updated_at": stamp.isoformat(),
    }  # fmt: skip


def demo_app(data_dir: Path) -> Starlette:
    """The demo department's API over ``hpf.json`` (nested records: ``unit.uscc`` is the key)."""
    stored = json.loads((data_dir / DEMO_FILE).read_text(encoding="utf-8"))
    records = stored[HPF_TABLE]
    by_key = {r["unit"]["uscc"]: r for r in records}
    table = Table("unit.uscc", "updated_at", by_key, tuple(sorted(by_key)))
    return rest_app({HPF_TABLE: table})
