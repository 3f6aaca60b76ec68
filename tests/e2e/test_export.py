"""GET /export/{resource} against the real demo server (uvicorn, SQLite departments).

Every answer is checked against the department's SQLite file read directly: rows, order,
filters, masks and regions; non-shared and ungranted values are looked for in the raw
bytes of every format (packages unzipped); packages are verified and tampered with.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import sqlite3
import uuid
import zipfile
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from joserfc.jwk import ECKey

from gateway.audit import load_secret
from gateway.auth import load_signer
from gateway.package import verify_package
from gateway.platform import PlatformDB, new_grant_row
from policies.catalog import Mask
from policies.decision import GrantConditions
from policies.share import Mode
from tests.conftest import DEMO_PURPOSE, DemoServer
from tests.e2e.conftest import approve_unconditional_for, fresh_department

pytestmark = pytest.mark.e2e

AMR = "amr.enterprise_registration"
COLUMNS = {"uscc": "uscc", "name": "ent_name", "status": "status", "registered_capital": "capital",
           "registration_date": "reg_date", "address": "address", "legal_representative": "legal_rep",
           "inner_note": "inner_note", "business_scope": "scope"}  # fmt: skip
FORMATS = (
    {"format": "ndjson"},
    {"format": "csv"},
    {"format": "package"},
    {"format": "package", "data": "csv"},
)


# --- helpers ---------------------------------------------------------------------------


def export(
    demo: DemoServer,
    resource: str = AMR,
    *,
    token: str = "consumer",
    purpose: str | None = DEMO_PURPOSE,
    user: str | None = None,
    **params: Any,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {demo.info['tokens'].get(token, token)}"}
    if purpose is not None:
        headers["X-Purpose"] = quote(purpose)
    if user is not None:
        headers["X-Request-User"] = user
    base = demo.url.rsplit("/graphql", 1)[0]
    return httpx.get(f"{base}/export/{resource}", params=params, headers=headers, timeout=60)


def ndjson(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.content.decode().splitlines()]


def source(
    demo: DemoServer, items: tuple[str, ...], where: str = "", args: tuple[Any, ...] = ()
) -> list[dict]:
    """Rows of the enterprise table as the catalog names them, key first, in key order."""
    names = ("uscc", *items)
    columns = ", ".join(COLUMNS[name] for name in names)
    uri = f"file:{demo.data_dir / 'amr.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        records = db.execute(f"SELECT {columns} FROM enterprise {where} ORDER BY uscc", args).fetchall()
    return [dict(zip(names, record, strict=True)) for record in records]


def column_values(demo: DemoServer, column: str) -> list[str]:
    uri = f"file:{demo.data_dir / 'amr.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        return [str(v) for (v,) in db.execute(f"SELECT {column} FROM enterprise") if v is not None]


def readable_bytes(response: httpx.Response) -> bytes:
    """The body as a reader gets at it: a package's members unzipped (deflate hides text)."""
    if response.headers["content-type"] != "application/zip":
        return response.content
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return response.content + b"".join(archive.read(name) for name in archive.namelist())


def events(demo: DemoServer, user: str) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(demo.data_dir / "platform.db")) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM audit_events WHERE user = ? ORDER BY seq", (user,)).fetchall()
    decoded = []
    for row in rows:
        event = dict(row)
        for name in ("items", "resources", "subjects", "decisions", "detail"):
            event[name] = json.loads(event[name])
        decoded.append(event)
    return decoded


def unique_user() -> str:
    return f"export-{uuid.uuid4().hex[:10]}"


def jwks(demo: DemoServer) -> dict[str, Any]:
    return httpx.get(demo.url.replace("/graphql", "/.well-known/voucher-keys.json"), timeout=10).json()


def scoped_grant(demo: DemoServer, items: list[str], conditions: GrantConditions) -> str:
    """A token for a fresh department holding a bulk grant with ``conditions``."""
    consumer = fresh_department()
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    row = new_grant_row(consumer, AMR, items, DEMO_PURPOSE, until, [Mode.BULK], conditions=conditions)

    async def add() -> None:
        platform = PlatformDB(f"sqlite+aiosqlite:///{demo.data_dir}/platform.db")
        try:
            await platform.add_grant(row)
        finally:
            await platform.close()

    asyncio.run(add())
    approve_unconditional_for(demo, consumer)  # hubei: unconditional items by application (art. 13)
    return load_signer(demo.data_dir).issue(consumer, ["consumer"], ttl=600)


# --- formats -------------------------------------------------------------------------------


def test_ndjson_is_every_row_in_key_order_as_stored(demo):
    answer = export(demo, items="name,status,registered_capital")
    assert answer.headers["content-type"] == "application/x-ndjson"
    assert "chunked" in answer.headers.get("transfer-encoding", "")
    assert ndjson(answer) == source(demo, ("name", "status", "registered_capital"))


def test_csv_rfc4180_with_titles_and_bom(demo):
    answer = export(demo, items="name,registered_capital", format="csv", titles="1", bom="1")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith("\ufeff".encode())
    assert b"\r\n" in answer.content and b"\n" not in answer.content.replace(b"\r\n", b"")
    header, *rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
    assert header == ["统一社会信用代码", "企业名称", "注册资本（元）"]
    expected = source(demo, ("name", "registered_capital"))
    assert rows == [[r["uscc"], r["name"], str(r["registered_capital"])] for r in expected]


def test_csv_header_of_item_names_without_bom(demo):
    answer = export(demo, items="status", format="csv", limit="2")
    assert answer.content.startswith(b"uscc,status\r\n")


def test_package_verifies_offline(demo, tmp_path):
    answer = export(demo, items="name,status", format="package", user=(user := unique_user()))
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
    (tmp_path / "p.zip").write_bytes(answer.content)
    (tmp_path / "jwks.json").write_text(json.dumps(jwks(demo)))
    result = demo.cli("package", "verify", str(tmp_path / "p.zip"), "--jwks", str(tmp_path / "jwks.json"))
    summary = json.loads(result.stdout)
    assert summary["ok"] and summary["rows"] == len(source(demo, ()))
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert archive.namelist() == ["data.ndjson", "manifest.json", "manifest.jws"]
        manifest = json.loads(archive.read("manifest.json"))
        data = archive.read("data.ndjson")
    assert manifest["data"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["items"] == ["uscc", "name", "status"] and manifest["titles"]["name"] == "企业名称"
    assert manifest["purpose"] == DEMO_PURPOSE and manifest["consumer"] == demo_consumer(demo)
    start, _end = events(demo, user)
    assert manifest["auditId"] == start["id"] == answer.headers["x-export-audit-id"]
    assert [json.loads(line) for line in data.splitlines()] == source(demo, ("name", "status"))


def demo_consumer(demo: DemoServer) -> str:
    return load_signer(demo.data_dir).verify(demo.token("consumer")).department


def test_package_with_csv_data_verifies(demo):
    answer = export(demo, items="name", format="package", data="csv", bom="1", limit="5")
    check = verify_package(io.BytesIO(answer.content), jwks(demo))
    assert check.ok, check.problems
    assert check.manifest["data"]["file"] == "data.csv" and check.manifest["rows"] == 5


def rezip(content: bytes, change: Callable[[str, bytes], bytes | None]) -> io.BytesIO:
    """The package with each member passed through ``change`` (None drops it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            data = change(name, old.read(name))
            if data is not None:
                new.writestr(name, data)
    out.seek(0)
    return out


def test_tampered_packages_each_fail_with_their_own_message(demo):
    content = export(demo, items="name,status", format="package", limit="20").content
    keys = jwks(demo)

    def edit(target: str, edit: Callable[[bytes], bytes | None]) -> list[str]:
        return verify_package(rezip(content, lambda n, d: edit(d) if n == target else d), keys).problems

    data = edit("data.ndjson", lambda d: d.replace("有限公司".encode(), "有限责任公司".encode(), 1))
    assert any("data.ndjson: its SHA-256" in p and "data was changed" in p for p in data), data
    fewer = edit("data.ndjson", lambda d: b"\n".join(d.split(b"\n")[1:]))
    assert any("rows, the manifest says 20" in p for p in fewer), fewer
    manifest = edit("manifest.json", lambda d: d.replace(b'"rows": 20', b'"rows": 21'))
    assert manifest == [
        "manifest.json differs from the manifest signed in manifest.jws (the manifest was changed)"
    ]
    missing = edit("manifest.jws", lambda d: None)
    assert missing[0] == "the package has no manifest.jws", missing
    stranger = ECKey.generate_key("P-256", {"kid": "someone-else"}).as_dict(private=False)
    wrong_key = verify_package(io.BytesIO(content), {"keys": [stranger]}).problems
    assert len(wrong_key) == 1 and "manifest.jws: the signature does not verify" in wrong_key[0]
    assert "the JWKS has no key" in wrong_key[0]
    assert verify_package(io.BytesIO(content), keys).ok


def test_cli_names_the_problem_and_exits_1(demo, tmp_path):
    content = export(demo, items="name", format="package", limit="3").content
    tampered = rezip(content, lambda n, d: d + b'{"uscc":"x"}\n' if n == "data.ndjson" else d)
    (tmp_path / "t.zip").write_bytes(tampered.getvalue())
    (tmp_path / "jwks.json").write_text(json.dumps(jwks(demo)))
    result = demo.cli("package", "verify", str(tmp_path / "t.zip"), "--jwks", str(tmp_path / "jwks.json"),
                      check=False)  # fmt: skip
    assert result.returncode == 1
    assert (
        "data.ndjson: its SHA-256" in result.stderr and "holds 4 rows, the manifest says 3" in result.stderr
    )


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("params", FORMATS, ids=lambda p: "-".join(p.values()))
def test_non_shared_item_refused_before_any_row_in_every_format(demo, params):
    answer = export(demo, items="name,inner_note", **params)
    assert answer.status_code == 403 and answer.headers["content-type"] == "application/json"
    (error,) = answer.json()["errors"]
    assert error["extensions"]["code"] == "NOT_SHARED" and error["extensions"]["item"] == "inner_note"
    assert error["extensions"]["field"] == "innerNote" and "basis" in error["extensions"]
    assert "有限公司" not in answer.text  # not one row


def test_same_detail_as_the_graphql_field_error(demo):
    graphql = demo.post("query($c: USCC!) { organization(code: $c) { enterpriseRegistration { address } } }",
                        {"c": demo.info["samples"]["organizations"][0]}).json()  # fmt: skip
    exported = export(demo, items="address").json()
    assert exported["errors"][0]["extensions"] == graphql["errors"][0]["extensions"]
    assert (
        exported["errors"][0]["message"].replace("mode bulk", "mode query") == graphql["errors"][0]["message"]
    )


@pytest.mark.parametrize("params", FORMATS, ids=lambda p: "-".join(p.values()))
def test_no_non_shared_or_ungranted_value_in_any_format(demo, params):
    answer = export(demo, items="name,status,business_scope", **params)
    assert answer.status_code == 200
    raw = readable_bytes(answer)
    for column in ("inner_note", "address", "legal_rep"):  # not shared; conditional, not granted
        leaked = [v for v in column_values(demo, column) if v.encode() in raw]
        assert not leaked, (column, leaked[:3])


def test_conditional_item_needs_a_grant_covering_bulk(demo, grant_to):
    query_only = grant_to(AMR, "address", DEMO_PURPOSE, modes="query,compare")
    refused = export(demo, items="address", token=query_only.token)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert "mode bulk" in refused.json()["errors"][0]["message"]
    bulk = grant_to(AMR, "address", DEMO_PURPOSE, modes="bulk")
    assert ndjson(export(demo, items="address", token=bulk.token)) == source(demo, ("address",))
    wrong_purpose = export(demo, items="address", token=bulk.token, purpose="招商引资")
    assert wrong_purpose.status_code == 403


def test_mode_not_offered_refused(demo):
    answer = export(demo, "tax.tax_credit", items="credit_rating")
    assert answer.status_code == 403
    assert {e["extensions"]["code"] for e in answer.json()["errors"]} == {"MODE_NOT_ALLOWED"}


@pytest.mark.parametrize("format_", ["ndjson", "csv"])
def test_regions_filter_rows_and_masks_apply(demo, format_):
    token = scoped_grant(demo, ["address"], GrantConditions(("420103",), {"address": Mask(3, 1)}))
    answer = export(demo, items="address,name", token=token, format=format_)
    assert answer.status_code == 200, answer.text
    if format_ == "csv":
        rows = list(csv.DictReader(io.StringIO(answer.content.decode(), newline="")))
    else:
        rows = ndjson(answer)
    inside = [r for r in source(demo, ("address", "name")) if r["uscc"][2:8] == "420103"]
    assert 0 < len(rows) == len(inside) < len(source(demo, ()))
    for got, stored in zip(rows, inside, strict=True):
        assert got["uscc"] == stored["uscc"] and got["name"] == stored["name"]
        address = stored["address"]
        assert got["address"] == address[:3] + "*" * (len(address) - 4) + address[-1:]
    raw = answer.content
    assert not [a for a in column_values(demo, "address") if a.encode() in raw]


def test_daily_cap_cuts_the_stream_after_the_cap(demo):
    token = scoped_grant(demo, ["address"], GrantConditions(daily_cap=5))
    with pytest.raises(httpx.RemoteProtocolError):  # cut, not ended: the client sees it is incomplete
        export(demo, items="address", token=token)
    base = demo.url.rsplit("/graphql", 1)[0]
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE), "X-Request-User": "cap"}
    received = b""
    with (
        contextlib.suppress(httpx.RemoteProtocolError),
        httpx.stream(
            "GET", f"{base}/export/{AMR}", params={"items": "address"}, headers=headers, timeout=30
        ) as answer,
    ):
        for chunk in answer.iter_bytes():
            received += chunk
    rows = [json.loads(line) for line in received.splitlines()]
    assert [r["uscc"] for r in rows] == [r["uscc"] for r in source(demo, ())[:5]]  # the same 5 again


# --- filters ---------------------------------------------------------------------------------


def test_limit_then_resume_after_the_last_key(demo):
    first = ndjson(export(demo, items="name", limit="120"))
    rest = ndjson(export(demo, items="name", after=first[-1]["uscc"]))
    assert len(first) == 120 and first + rest == source(demo, ("name",))


def test_since_selects_rows_changed_at_or_after(demo):
    stamps = sorted(column_values(demo, "updated_at"))
    since = stamps[len(stamps) // 2]  # a stored stamp, naive: China time, as the source keeps them
    rows = ndjson(export(demo, items="name", since=since))
    expected = source(demo, ("name",), "WHERE datetime(updated_at) >= datetime(?)", (since,))
    assert rows == expected and 0 < len(rows) < len(stamps)
    utc = (dt.datetime.fromisoformat(since) - dt.timedelta(hours=8)).isoformat() + "Z"  # same instant
    assert ndjson(export(demo, items="name", since=utc)) == expected


def test_limit_counts_rows(demo):
    assert len(ndjson(export(demo, items="status", limit="7"))) == 7


BAD = [
    ({}, "items", "items=a,b"),
    ({"items": "name,nope"}, "items", "has no item 'nope'"),
    ({"items": "name", "since": "yesterday"}, "since", "ISO 8601"),
    ({"items": "name", "since": "0001-01-01T00:00:00+14:00"}, "since", "out of range"),
    ({"items": "name", "limit": "0"}, "limit", "whole number from 1"),
    ({"items": "name", "limit": "-3"}, "limit", "whole number from 1"),
    ({"items": "name", "limit": "ten"}, "limit", "whole number from 1"),
    ({"items": "name", "format": "xml"}, "format", "ndjson, csv, package"),
    ({"items": "name", "format": "package", "data": "xlsx"}, "data", "ndjson, csv"),
    ({"items": "name", "bom": "maybe"}, "bom", "bom=1 or bom=0"),
    ({"items": "name", "after": "9" * 65}, "after", "last row received"),
    ({"items": "name", "fromat": "csv"}, "fromat", "unknown parameter"),
    ({"items": ["inner_note", "name"]}, "items", "more than once"),
    ({"items": "name", "titles": "1"}, "titles", "format=csv"),  # NDJSON has no header
    ({"items": "name", "format": "package", "bom": "1"}, "bom", "data=csv"),
    ({"items": "name", "format": "csv", "data": "csv"}, "data", "format=package"),
    ({"items": "name", "format": ["ndjson", "package"]}, "format", "more than once"),
    ({"items": "name", "limit": ["5", "1000000000"]}, "limit", "more than once"),
]


@pytest.mark.parametrize(
    ("params", "parameter", "fix"), BAD, ids=[b[1] + "-" + str(i) for i, b in enumerate(BAD)]
)
def test_bad_parameters_are_400_naming_the_parameter(demo, params, parameter, fix):
    answer = export(demo, **params)
    assert answer.status_code == 400, answer.text
    (error,) = answer.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST", "parameter": parameter}
    assert fix in error["message"]


def test_unknown_resource_is_400(demo):
    answer = export(demo, "amr.nothing", items="name")
    assert answer.status_code == 400 and answer.json()["errors"][0]["extensions"]["parameter"] == "resource"


def test_no_token_401_no_purpose_400(demo):
    base = demo.url.rsplit("/graphql", 1)[0]
    assert httpx.get(f"{base}/export/{AMR}?items=name", timeout=10).status_code == 401
    answer = export(demo, items="name", purpose=None)
    assert (
        answer.status_code == 400 and answer.json()["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    )


# --- audit -------------------------------------------------------------------------------------


def test_start_and_end_events_with_count_last_key_and_keyed_digest(demo):
    user = unique_user()
    answer = export(demo, items="name,status", user=user, limit="50", format="csv")
    start, end = events(demo, user)
    assert (start["kind"], start["mode"], start["outcome"]) == ("export", "bulk", "started")
    assert start["items"] == [f"{AMR}.uscc", f"{AMR}.name", f"{AMR}.status"]
    assert start["detail"]["filters"] == {"limit": 50} and start["detail"]["format"] == "csv"
    last = source(demo, ())[49]["uscc"]
    assert end["outcome"] == "answered" and end["detail"]["start"] == start["id"]
    assert end["detail"]["rows"] == 50 and end["detail"]["lastKey"] == last
    secret = load_secret(demo.data_dir)
    assert end["response_digest"] == hmac.new(secret, answer.content, hashlib.sha256).hexdigest()
    assert answer.content.decode().split("\r\n")[-2].startswith(last)


def test_refused_export_is_an_export_event(demo):
    user = unique_user()
    export(demo, items="name,inner_note", user=user)
    export(demo, items="name", limit="zero", user=user)
    refused, bad = events(demo, user)
    assert (refused["kind"], refused["mode"], refused["outcome"]) == ("export", "bulk", "refused")
    assert refused["decisions"][f"{AMR}.inner_note"] == "NOT_SHARED"
    assert bad["decisions"] == {"request": "BAD_REQUEST"} and bad["detail"]["parameter"] == "limit"
