"""Publishing a catalog into a running gateway (gateway.catalog_swap; issue 11 §2).

A real uvicorn server on 127.0.0.1 (a random port) serves the demo (30 organizations); the
swap is made in process (``Gateway.swap_catalog``, what the catalog store's publish path
calls) while clients send requests over HTTP. The new catalog is the demo's, edited as a
provider would: a new resource (``amr.enterprise_brief``, read from the same table), the
item ``business_scope`` withdrawn (non-shared, with its basis), ``registered_capital`` made
conditional, and the ``bulk`` mode of ``credit.credit_record`` removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import socket
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
import yaml

from errors import CatalogError
from gateway.app import Gateway, create_app
from gateway.catalog_store import CatalogStore, files_digest
from gateway.catalog_swap import file_follower, impact_of
from gateway.demo import DRC, GRANT_PURPOSE, build_demo, demo_tokens, ensure_grant, organization_codes
from gateway.platform import new_grant_row
from gateway.settings import Settings
from policies.catalog import Catalog, load_catalog
from policies.share import Mode
from tests.gateway.test_catalog_fail_closed import break_the_stored_catalog
from tests.gateway.test_catalog_store import OPERATOR

pytestmark = pytest.mark.e2e
AMR = "amr.enterprise_registration"
BRIEF = "amr.enterprise_brief"
PURPOSE = quote(GRANT_PURPOSE)  # X-Purpose, percent-encoded UTF-8
BASIS = "《政务信息资源共享管理暂行办法》第九条：经营范围另行发布，本目录不再共享"


@dataclass
class Running:
    url: str
    gateway: Gateway
    tokens: dict[str, str]
    data_dir: Path
    code: str  # an organization the demo holds

    def headers(self, who: str = "consumer_with_grant", user: str | None = None) -> dict[str, str]:
        sent = {"Authorization": f"Bearer {self.tokens[who]}", "X-Purpose": PURPOSE}
        return sent | ({"X-Request-User": user} if user else {})


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo built once for the module (each test serves a copy: swaps change its state)."""
    folder = tmp_path_factory.mktemp("swap-demo")
    samples = build_demo(folder, organizations=30, persons=10)
    asyncio.run(ensure_grant(Settings.load({}, data=str(folder))))  # DRC's conditional grant
    return folder, samples["organizations"][0]


@pytest.fixture
async def running(demo_folder: tuple[Path, str], tmp_path: Path) -> AsyncIterator[Running]:
    folder, code = demo_folder
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    settings = Settings.load({}, data=str(tmp_path))
    gateway = await Gateway.start(settings)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    for resource, items, modes in (  # DRC may read what the new catalog adds, and export
        (BRIEF, ["uscc", "name"], [Mode.QUERY]),
        (AMR, ["uscc", "name", "business_scope", "registered_capital"], [Mode.QUERY, Mode.BULK]),
    ):
        await gateway.platform.add_grant(
            new_grant_row(DRC.code, resource, items, GRANT_PURPOSE, until, modes)
        )
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        yield Running(url, gateway, demo_tokens(settings), tmp_path, code)
    finally:
        server.should_exit = True
        await serving
        sock.close()
        await gateway.close()


def published(running: Running) -> Catalog:
    """The demo catalog as the provider edited it (see the module docs), loaded and validated."""
    data = yaml.safe_load((running.data_dir / "catalog.yaml").read_text(encoding="utf-8"))
    resources = {r["id"]: r for r in data["resources"]}
    amr = resources[AMR]
    for item in amr["items"]:
        if item["name"] == "business_scope":
            item.update(share="not_shared", basis=BASIS)
        if item["name"] == "registered_capital":
            item.update(share="conditional", condition="用于注册资本核查")
    resources["credit.credit_record"]["modes"] = ["query"]
    brief = {key: amr[key] for key in ("provider", "subject", "key", "category", "update_cycle")}
    brief.update(id=BRIEF, code="420100-AMR-ENTERPRISE_BRIEF", name="企业简况", modes=["query"],
                 source={"table": "enterprise", "columns": {"name": "ent_name"}},
                 items=[{"name": "uscc", "title": "统一社会信用代码"},
                        {"name": "name", "title": "企业名称"}])  # fmt: skip
    data["resources"].append(brief)
    path = running.data_dir / "published.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_catalog(path)


SCOPE = "{ organization(code: $c) { enterpriseRegistration { name businessScope } } }"
FIELDS = '{ __type(name: "Organization") { fields { name } } }'


def scope_query(code: str) -> dict[str, Any]:
    return {"query": f"query($c: USCC!) {SCOPE}", "variables": {"c": code}}


@dataclass
class Sent:
    kind: str  # scope | fields
    started: float
    ended: float
    status: int
    body: Any


async def client_loop(
    client: httpx.AsyncClient, running: Running, stop: asyncio.Event, log: list[Sent]
) -> None:
    """Alternately: the item to be withdrawn, and the Organization type's fields."""
    kinds = [("scope", scope_query(running.code)), ("fields", {"query": FIELDS})]
    turn = 0
    while not stop.is_set():
        kind, body = kinds[turn % 2]
        turn += 1
        started = time.perf_counter()
        answer = await client.post("/graphql", json=body, headers=running.headers())
        log.append(Sent(kind, started, time.perf_counter(), answer.status_code, answer.json()))


def is_old(sent: Sent) -> bool:
    """Whether the answer came from the catalog before the swap (it must be one or the other)."""
    if sent.kind == "scope":
        data = (sent.body.get("data") or {}).get("organization")
        if data and data["enterpriseRegistration"]["businessScope"]:
            assert "errors" not in sent.body, sent.body
            return True
        assert [e["extensions"]["code"] for e in sent.body["errors"]] == ["NOT_SHARED"], sent.body
        assert "data" not in sent.body  # refused at validation: nothing ran
        return False
    fields = {f["name"] for f in sent.body["data"]["__type"]["fields"]}
    assert "enterpriseRegistration" in fields
    return "enterpriseBrief" not in fields


async def test_a_swap_under_load_fails_no_request_and_splits_old_from_new(running):
    """Six clients query without pause while the catalog is swapped: every request answers
    200; those ended before the swap began answer by the old catalog, those sent after it
    returned by the new (the withdrawn item refused NOT_SHARED at once, with a still-valid
    grant; the new resource in introspection and readable), and each answer is wholly one or
    the other."""
    stop, log = asyncio.Event(), []
    limits = httpx.Limits(max_connections=6)
    async with httpx.AsyncClient(base_url=running.url, limits=limits, timeout=30) as client:
        clients = [asyncio.create_task(client_loop(client, running, stop, log)) for _ in range(6)]
        while len(log) < 60:
            await asyncio.sleep(0.01)
        began = time.perf_counter()
        swap = await running.gateway.swap_catalog(published(running))
        returned = time.perf_counter()
        after = len(log)
        while len(log) < after + 60:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.gather(*clients)
        brief = "{ organization(code: $c) { enterpriseBrief { uscc name } } }"
        body = {"query": f"query($c: USCC!) {brief}", "variables": {"c": running.code}}
        read = await client.post("/graphql", json=body, headers=running.headers())
    assert [s for s in log if s.status != 200] == []
    before = [s for s in log if s.ended < began]
    later = [s for s in log if s.started > returned]
    assert before and later
    assert all(is_old(s) for s in before)
    assert not any(is_old(s) for s in later)
    assert {s.kind for s in later} == {"scope", "fields"}
    assert all(isinstance(is_old(s), bool) for s in log)  # the straddling ones too: whole answers
    assert (
        read.status_code == 200
        and read.json()["data"]["organization"]["enterpriseBrief"]["uscc"] == running.code
    )
    assert swap.version == 2 and swap.added == (BRIEF,) and AMR in swap.changed
    print(f"\nswap of the demo catalog: {swap.seconds * 1000:.1f} ms (schema build "
          f"{swap.build_seconds * 1000:.1f} ms), {len(log)} requests under load, none failed")  # fmt: skip


async def test_a_request_running_during_the_swap_finishes_on_its_own_catalog(running):
    """A streamed export pins the snapshot it began on: a swap that leaves its items as they
    were (though amr's connector settings change: a new connector) does not cut it, and the
    retired connector is closed only once the export has finished."""
    add_enterprises(running.data_dir, 6000)  # megabytes: the server waits on the socket for the client
    catalog = running.gateway.catalog
    amr = catalog.departments[catalog.resources[AMR].provider]
    slower = dataclasses.replace(amr, connector={**amr.connector, "timeout": 7})
    republished = dataclasses.replace(catalog, departments={**catalog.departments, amr.code: slower})
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        path, params = f"/export/{AMR}", {"items": "name,business_scope"}
        async with client.stream("GET", path, params=params, headers=running.headers()) as answer:
            lines = answer.aiter_lines()
            first = await anext(lines)
            swap = await running.gateway.swap_catalog(republished)
            assert running.gateway.swaps.retired  # the old amr connector: the export still reads it
            received = 1 + len([line async for line in lines])
        await asyncio.wait_for(running.gateway.swaps.drained(), 5)
    assert answer.status_code == 200 and first
    assert received == 6030  # every page, though the swap landed after the first
    assert swap.version == 2 and swap.changed == tuple(r for r in catalog.resources if r.startswith("amr."))
    assert not running.gateway.swaps.retired


def add_enterprises(data_dir: Path, count: int) -> None:
    """``count`` more enterprises, each with a 2 KB business scope: an export of them is
    megabytes, so a client that stops reading holds the server at its socket (TCP flow
    control), pages behind."""
    codes = organization_codes(30 + count)[30:]
    with contextlib.closing(sqlite3.connect(data_dir / "amr.db")) as db, db:
        db.executemany("INSERT INTO enterprise (uscc, ent_name, scope) VALUES (?, ?, ?)",
                       [(code, f"企业{i}", "经营" * 1000) for i, code in enumerate(codes)])  # fmt: skip


async def test_a_withdrawn_item_is_refused_at_once_by_query_compare_and_a_running_export(running):
    """No grant keeps serving an item made non-shared: DRC's grant still names business_scope
    (query, bulk), yet after the swap a query and a compare are refused NOT_SHARED, and an
    export already streaming it is cut before its next page; the end event says why."""
    add_enterprises(running.data_dir, 6000)
    compare = {"resource": AMR, "subject": running.code, "claims": {"business_scope": "技术开发"}}
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        path, params = f"/export/{AMR}", {"items": "name,business_scope"}
        headers = running.headers(user="withdrawn-export")
        async with client.stream("GET", path, params=params, headers=headers) as answer:
            lines = answer.aiter_lines()
            first = await anext(lines)
            await running.gateway.swap_catalog(published(running))
            received = 1
            with pytest.raises(httpx.RemoteProtocolError):  # cut: no final chunk
                async for _ in lines:
                    received += 1
        query = await client.post("/graphql", json=scope_query(running.code), headers=running.headers())
        compared = await client.post("/compare", json=compare, headers=running.headers())
        export = await client.get(path, params=params, headers=running.headers())
    assert answer.status_code == 200 and "business_scope" in first
    assert received < 6030
    assert [e["extensions"]["code"] for e in query.json()["errors"]] == ["NOT_SHARED"]
    assert "NOT_SHARED" in compared.text and "技术开发" not in compared.text
    assert export.status_code == 403 and export.json()["errors"][0]["extensions"]["code"] == "NOT_SHARED"
    events = await running.gateway.audit.events(limit=1000)
    end = [e for e in events if e["user"] == "withdrawn-export"][-1]
    assert end["outcome"] == "NOT_SHARED" and end["detail"]["rows"] < 6030


async def test_a_swap_is_audited_and_the_consumers_it_breaks_are_told(running):
    """``catalog.swap`` records the digest and the impact; each consumer a breaking change
    touches gets a ``catalog.notice`` naming its grants, and reads it among its own events;
    the review before publication (``impact_of``) showed the same analysis."""
    catalog = published(running)
    reviewed = await impact_of(running.gateway, catalog)
    swap = await running.gateway.swap_catalog(catalog)
    assert reviewed == swap.impact and reviewed.breaking
    events = await running.gateway.audit.events(limit=1000)
    (recorded,) = [e for e in events if e["outcome"] == "catalog.swap"]
    assert recorded["detail"]["version"] == 2 and len(recorded["detail"]["digest"]) == 64
    assert recorded["detail"]["impact"]["consumers"] == list(swap.impact.consumers)
    assert DRC.code in swap.notified
    drc_grants = {g.id for g in swap.impact.grants if g.consumer == DRC.code}
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        read = "{ auditEvents(limit: 1000) { events { outcome consumer detail } } }"
        mine = (await client.post("/graphql", json={"query": read}, headers=running.headers())).json()
    notices = [e for e in mine["data"]["auditEvents"]["events"] if e["outcome"] == "catalog.notice"]
    assert len(notices) == 1 and notices[0]["consumer"] == DRC.code
    assert set(notices[0]["detail"]["grants"]) == drc_grants
    kinds = {c["kind"] for c in notices[0]["detail"]["changes"]}
    # business_scope withdrawn and registered_capital made conditional (for comparing too: it
    # has no compare class of its own), credit_record's bulk mode gone: DRC's demo grants hold all
    assert kinds == {"class_stricter", "compare_stricter", "mode_removed"}
    # and where it follows its applications: a catalog_change step naming what changed
    (credit,) = [
        a.id
        for a in swap.impact.applications
        if a.consumer == DRC.code and a.resource == "credit.credit_record"
    ]
    history = "query($id: ID!) { application(id: $id) { status history { action reasons } } }"
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        body = {"query": history, "variables": {"id": credit}}
        read = (await client.post("/graphql", json=body, headers=running.headers())).json()["data"][
            "application"
        ]
    step = read["history"][-1]
    assert step == {
        "action": "catalog_change",
        "reasons": ["catalog version 2: credit.credit_record mode bulk: mode_removed"],
    }


async def test_a_catalog_that_cannot_be_served_leaves_the_old_one_serving(running):
    """A resource whose source cannot be bound (a column mapped to an unknown item), or another
    profile: ``CatalogError`` naming it, and the gateway keeps its catalog, schema, version."""
    gateway = running.gateway
    schema, catalog = gateway.schema, gateway.catalog
    good = published(running)
    brief = good.resources[BRIEF]
    broken = dataclasses.replace(brief, source={"table": "enterprise", "columns": {"nickname": "ent_name"}})
    with pytest.raises(CatalogError, match=r"resources\[amr.enterprise_brief\].source"):
        await gateway.swap_catalog(dataclasses.replace(good, resources={**good.resources, BRIEF: broken}))
    orphan = dataclasses.replace(brief, provider=DRC.code)  # a consumer department: no connector
    with pytest.raises(CatalogError, match=r"resources\[amr.enterprise_brief\].provider.*no connector"):
        await gateway.swap_catalog(dataclasses.replace(good, resources={**good.resources, BRIEF: orphan}))
    with pytest.raises(CatalogError, match="profile"):
        await gateway.swap_catalog(dataclasses.replace(good, profile="shanghai"))
    assert gateway.schema is schema and gateway.catalog is catalog and gateway.swaps.version == 1


async def test_concurrent_swaps_are_serialized(running):
    """Two publications at once: one after the other, each a version of its own, the last wins."""
    gateway, new = running.gateway, published(running)
    first, second = await asyncio.gather(gateway.swap_catalog(new), gateway.swap_catalog(gateway.catalog))
    assert sorted([first.version, second.version]) == [2, 3]
    assert gateway.swaps.version == 3
    assert (gateway.catalog is new) == (first.version == 3)


async def test_catalog_search_follows_the_swap(running):
    """issue 11 section 3: what a publication adds is found, what it makes non-shared shows
    its basis, at once (the index is rebuilt in the swap)."""
    query = "query($s: String) { catalog(search: $s) { resources { id items { name share basis } } } }"

    async def search(client: httpx.AsyncClient, text: str) -> list[dict[str, Any]]:
        sent = {"query": query, "variables": {"s": text}}
        found = await client.post("/graphql", json=sent, headers=running.headers("consumer"))
        return list(found.json()["data"]["catalog"]["resources"])

    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        assert await search(client, "企业简况") == []
        await running.gateway.swap_catalog(published(running))
        assert [r["id"] for r in await search(client, "企业简况")] == [BRIEF]
        amr = next(r for r in await search(client, "经营范围") if r["id"] == AMR)
    scope = next(i for i in amr["items"] if i["name"] == "business_scope")
    assert scope["share"] == "NOT_SHARED" and scope["basis"] == BASIS


async def test_stats_and_the_sdl_follow_the_swap(running):
    """The operator's statistics count the provider's resources and classes of the catalog
    served now, and ``/schema.graphql`` prints the new schema."""
    amr = running.gateway.catalog.resources[AMR].provider
    query = {"query": f'{{ stats(department: "{amr}") {{ resources items {{ notShared conditional }} }} }}'}

    async def read(client: httpx.AsyncClient) -> tuple[dict[str, Any], str]:
        stats = await client.post("/graphql", json=query, headers=running.headers("operator"))
        sdl = await client.get("/schema.graphql", headers=running.headers("operator"))
        return stats.json()["data"]["stats"][0], sdl.text

    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        before, old_sdl = await read(client)
        await running.gateway.swap_catalog(published(running))
        after, new_sdl = await read(client)
    assert after["resources"] == before["resources"] + 1
    assert after["items"]["notShared"] == before["items"]["notShared"] + 1  # business_scope
    assert after["items"]["conditional"] == before["items"]["conditional"] + 1  # registered_capital
    assert "enterpriseBrief" not in old_sdl and "enterpriseBrief" in new_sdl
    assert "businessScope" in old_sdl and "businessScope" not in new_sdl


async def test_a_grant_on_a_removed_resource_is_listed_and_revoked_by_the_operator(running):
    """The grants of a resource a publication removed stay the operator's to list and revoke
    (the workflow reads the catalog served now: no error for the missing resource)."""
    gateway = running.gateway
    catalog = published(running)
    kept = {rid: r for rid, r in catalog.resources.items() if rid != BRIEF}
    swap = await gateway.swap_catalog(catalog)
    removal = await gateway.swap_catalog(dataclasses.replace(catalog, resources=kept))
    assert removal.removed == (BRIEF,) and swap.added == (BRIEF,)
    (grant,) = [g for g in await gateway.platform.all_grants() if g.resource == BRIEF]
    assert grant.id in {a.id for a in removal.impact.grants}
    mutation = 'mutation($id: ID!) { revokeGrant(id: $id, reasons: ["resource removed"]) { id revoked } }'
    listing = f'{{ grants(resource: "{BRIEF}") {{ id }} }}'
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        listed = await client.post("/graphql", json={"query": listing}, headers=running.headers("operator"))
        body = {"query": mutation, "variables": {"id": grant.id}}
        revoked = await client.post("/graphql", json=body, headers=running.headers("operator"))
    assert listed.json()["data"]["grants"] == [{"id": grant.id}]
    assert "errors" not in revoked.json()
    assert revoked.json()["data"]["revokeGrant"] == {"id": grant.id, "revoked": True}


async def test_a_follower_serves_the_edited_catalog_file_and_keeps_serving_through_a_bad_edit(running):
    """Every process follows the published catalog (``CatalogFollower``; here the catalog file
    itself): an edit is served at the next round; an edit that cannot be served leaves the
    catalog served, is not retried, and the next good edit is served. A follower of a
    publication made elsewhere (``notify=False``) records its swap but tells no consumer."""
    gateway = running.gateway
    follower = file_follower(gateway, notify=False)
    await follower.round()
    assert gateway.swaps.version == 1  # nothing changed yet
    path = running.data_dir / "catalog.yaml"
    original = path.read_text(encoding="utf-8")
    published(running)  # writes published.yaml: the provider's edits
    path.write_text((running.data_dir / "published.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    await follower.round()
    assert gateway.swaps.version == 2 and "amr.enterprise_brief" in gateway.catalog.resources
    path.write_text(original.replace("profile: hubei", "profile: shanghai"), encoding="utf-8")
    await follower.round()
    await follower.round()
    assert gateway.swaps.version == 2 and gateway.catalog.profile == "hubei"
    path.write_text(original, encoding="utf-8")
    await follower.round()
    assert gateway.swaps.version == 3 and "amr.enterprise_brief" not in gateway.catalog.resources
    outcomes = [e["outcome"] for e in await gateway.audit.events(limit=1000)]
    assert outcomes.count("catalog.swap") == 2 and "catalog.notice" not in outcomes


def edited(running: Running, edit: Any) -> Catalog:
    """The demo catalog with ``edit(resources by id)`` applied, loaded and validated."""
    data = yaml.safe_load((running.data_dir / "catalog.yaml").read_text(encoding="utf-8"))
    edit({r["id"]: r for r in data["resources"]})
    path = running.data_dir / "edited.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_catalog(path)


def mask_name(resources: dict[str, Any]) -> None:
    """AMR's unconditional ``name`` masked by the catalog: the provider shows less of it."""
    for item in resources[AMR]["items"]:
        if item["name"] == "name":
            item["mask"] = {"keep_first": 1, "keep_last": 0}


async def test_a_mask_added_while_an_export_streams_cuts_it_and_later_reads_are_masked(running):
    """A catalog mask added to an exported item: the export already streaming was planned
    without it, so it is cut before its next page (resume under the published catalog), never
    continued unmasked; the next export and query are masked."""
    add_enterprises(running.data_dir, 6000)
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        path, params = f"/export/{AMR}", {"items": "name,business_scope"}
        headers = running.headers(user="masked")
        async with client.stream("GET", path, params=params, headers=headers) as answer:
            lines = answer.aiter_lines()
            first = await anext(lines)
            await running.gateway.swap_catalog(edited(running, mask_name))
            rest: list[str] = []
            with pytest.raises(httpx.RemoteProtocolError):  # cut: no final chunk
                async for line in lines:
                    rest.append(line)
        again = await client.get(path, params={"items": "name", "limit": "5"}, headers=running.headers())
        body = {"query": "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name } } }",
                "variables": {"c": running.code}}  # fmt: skip
        query = await client.post("/graphql", json=body, headers=running.headers())
    assert answer.status_code == 200 and '"name"' in first
    assert len(rest) < 6029
    events = await running.gateway.audit.events(limit=1000)
    end = [e for e in events if e["user"] == "masked"][-1]
    assert end["outcome"] == "FORBIDDEN" and end["detail"]["rows"] < 6030
    names = [json.loads(line)["name"] for line in again.text.splitlines() if line.strip()]
    assert names and all(name[1:] == "*" * (len(name) - 1) for name in names), names
    assert query.json()["data"]["organization"]["enterpriseRegistration"]["name"].endswith("*")


def test_the_catalog_files_digest_reads_what_load_catalog_reads(tmp_path: Path) -> None:
    """One digest for the store's import record and the file follower (gateway.catalog_store
    .files_digest): a file's bytes, a folder's YAML names and bytes; "" when nothing is there."""
    folder = tmp_path / "catalog"
    folder.mkdir()
    assert files_digest(folder) == "" == files_digest(tmp_path / "missing.yaml")
    (folder / "b.yaml").write_text("b: 1\n")
    (folder / "notes.txt").write_text("not read")
    first = files_digest(folder)
    (folder / "notes.txt").write_text("changed, still not read")
    assert files_digest(folder) == first
    (folder / "a.yml").write_text("a: 1\n")
    assert files_digest(folder) not in ("", first)
    assert files_digest(folder / "b.yaml") == hashlib.sha256(b"b: 1\n").hexdigest()


@pytest.mark.parametrize("elsewhere", ["withdrawn", "unservable"])
async def test_a_running_export_follows_a_catalog_published_by_another_process(running, elsewhere):
    """Another process withdraws business_scope (or publishes a catalog this one cannot
    serve) while this process streams an export of it, and no other request arrives here:
    before its next page the export catches up with the store (``Gateway.keep_current``) and
    is cut (the item withdrawn: FORBIDDEN; the catalog unservable: CATALOG_OUT_OF_DATE), as
    a subscription is before its next notice."""
    add_enterprises(running.data_dir, 6000)
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        path, params = f"/export/{AMR}", {"items": "name,business_scope"}
        async with client.stream(
            "GET", path, params=params, headers=running.headers(user="elsewhere")
        ) as answer:
            lines = answer.aiter_lines()
            await anext(lines)
            if elsewhere == "withdrawn":  # a store of its own: the publishing process, not this one
                await CatalogStore(running.gateway.platform).withdraw(
                    OPERATOR, AMR, "business_scope", ["停止共享"]
                )
            else:
                await break_the_stored_catalog(running.gateway)
            received = 1
            with pytest.raises(httpx.RemoteProtocolError):  # cut: no final chunk
                async for _ in lines:
                    received += 1
    assert received < 6030
    end = [e for e in await running.gateway.audit.events(limit=1000) if e["user"] == "elsewhere"][-1]
    assert end["outcome"] == ("FORBIDDEN" if elsewhere == "withdrawn" else "CATALOG_OUT_OF_DATE")
