"""Several gateway processes on ONE PostgreSQL platform database and ONE Redis (issue 12 §1):
two ``govshare serve`` processes (real uvicorn on 127.0.0.1, audit on) over the demo.

- a grant revoked through one is refused by the other on the very next request (its grant
  cache was warm: gateway.grant_cache);
- a daily cap and a compare rate limit are one budget across both;
- SIGKILL of one under load: every request it answered has its audit event, every chain
  verifies (``govshare audit verify``), and the other keeps serving;
- ``serve --workers 2``: both workers answer, each with its own audit chain.

Skipped without GOVSHARE_TEST_POSTGRES_URL / GOVSHARE_TEST_REDIS_URL (CI sets both).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.auth import load_signer
from gateway.demo import AMR, BIGDATA, build_demo, ensure_grant
from gateway.demo_applications import approve_demo_consumers, approve_unconditional
from gateway.platform import PlatformDB, new_grant_row
from gateway.settings import Settings
from policies.decision import GrantConditions
from policies.share import Mode
from tests.conftest import DEMO_PURPOSE, create_database_if_missing, postgres_url_or_skip
from tests.e2e.conftest import fresh_department, serve

REDIS_URL = os.environ.get("GOVSHARE_TEST_REDIS_URL")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not REDIS_URL, reason="GOVSHARE_TEST_REDIS_URL is not set")]
RESOURCE = "amr.enterprise_registration"
READ = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name address } } }"
REVOKE = 'mutation($id: ID!) { revokeGrant(id: $id, reasons: ["超出申请用途使用"]) { id revoked } }'


@dataclass
class Cluster:
    data: Path
    url: str  # the platform database both gateways share
    codes: list[str]
    gateways: dict[str, tuple[subprocess.Popen[str], str]]

    def token(self, department: str, role: str = "consumer") -> str:
        return load_signer(self.data).issue(department, [role], ttl=600)


def fresh_database(url: str, suffix: str) -> str:
    """A database of its own on the test server (the shared one holds other tests' chains,
    some broken on purpose), emptied: ``audit verify`` must see only this module's events."""
    own = sa.make_url(url).set(database=f"{sa.make_url(url).database}_{suffix}")

    async def make() -> None:
        await create_database_if_missing(url, str(own.database))
        engine = create_async_engine(own)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                await conn.execute(sa.text("CREATE SCHEMA public"))
        finally:
            await engine.dispose()

    asyncio.run(make())
    return own.render_as_string(hide_password=False)


def environment(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "GOVSHARE_DATABASE_URL": url, "GOVSHARE_REDIS_URL": str(REDIS_URL),
            "GOVSHARE_LOG_LEVEL": "warning", "GOVSHARE_COMPARE_RATE": "1", "GOVSHARE_COMPARE_BURST": "2",
            "GOVSHARE_CHANGE_POLL_SECONDS": "0", "GOVSHARE_COMPARE_GUESSES": "1", **extra}  # fmt: skip


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    yield from two_gateways(tmp_path_factory, "workers_e2e", organizations=20, persons=5)


def two_gateways(
    tmp_path_factory: pytest.TempPathFactory, database: str, organizations: int, persons: int
) -> Iterator[Cluster]:
    """Two single-worker gateways gw-a and gw-b on one fresh PostgreSQL database ``database``
    and one demo data folder, its consumers' applications approved; stopped after the yield."""
    url = fresh_database(postgres_url_or_skip(), database)
    data = tmp_path_factory.mktemp(database)
    samples = build_demo(data, organizations=organizations, persons=persons)
    settings = Settings.load({"GOVSHARE_DATABASE_URL": url}, data=str(data))
    asyncio.run(ensure_grant(settings))
    asyncio.run(approve_demo_consumers(settings))
    gateways = {name: serve(data, environment(url, GOVSHARE_INSTANCE=name), name, "--workers", "1")
                for name in ("gw-a", "gw-b")}  # fmt: skip
    try:
        yield Cluster(data, url, samples["organizations"], gateways)
    finally:
        for process, _ in gateways.values():
            stop(process)


def consumer_with_grant(cluster: Cluster, conditions: GrantConditions | None = None) -> tuple[str, str]:
    """A fresh department holding a grant of RESOURCE's conditional ``address`` (and, under the
    demo's hubei profile, its unconditional items by application): (token, grant id)."""
    department = fresh_department()
    settings = Settings.load({"GOVSHARE_DATABASE_URL": cluster.url}, data=str(cluster.data))
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    row = new_grant_row(department, RESOURCE, ["address"], DEMO_PURPOSE, until,
                        [Mode.QUERY, Mode.COMPARE], conditions=conditions)  # fmt: skip

    async def add() -> str:
        platform = PlatformDB(cluster.url)
        try:
            return (await platform.add_grant(row)).id
        finally:
            await platform.close()

    grant_id = asyncio.run(add())
    asyncio.run(approve_unconditional(settings, (department,), BIGDATA.code, DEMO_PURPOSE))
    return cluster.token(department), grant_id


def post(url: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}
    response = httpx.post(url, json={"query": query, "variables": variables}, headers=headers, timeout=30)
    return dict(response.json())


def codes_of(answer: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors", [])]


def url_of(cluster: Cluster, name: str) -> str:
    return cluster.gateways[name][1]


def test_a_revoke_through_one_gateway_is_refused_by_the_other_on_the_next_request(cluster: Cluster):
    token, grant_id = consumer_with_grant(cluster)
    code = cluster.codes[0]
    for _ in range(2):  # the second is served from gw-b's warm grant cache
        warm = post(url_of(cluster, "gw-b"), token, READ, {"c": code})
        assert warm["data"]["organization"]["enterpriseRegistration"]["address"], warm
    revoked = post(url_of(cluster, "gw-a"), cluster.token(AMR.code, "provider"), REVOKE, {"id": grant_id})
    assert revoked["data"]["revokeGrant"] == {"id": grant_id, "revoked": True}
    after = post(url_of(cluster, "gw-b"), token, READ, {"c": code})
    assert after["data"]["organization"]["enterpriseRegistration"]["address"] is None
    denied = next(e for e in after["errors"] if e["path"][-1] == "address")
    assert (denied["extensions"]["code"], denied["extensions"]["reason"]) == (
        "CONDITIONAL_ACCESS_REQUIRED", "revoked",
    )  # fmt: skip


def test_a_daily_cap_is_one_budget_across_gateways(cluster: Cluster):
    token, _ = consumer_with_grant(cluster, GrantConditions(daily_cap=2))
    first, second, third = cluster.codes[1:4]
    assert not post(url_of(cluster, "gw-a"), token, READ, {"c": first}).get("errors")
    assert not post(url_of(cluster, "gw-b"), token, READ, {"c": second}).get("errors")
    over = post(url_of(cluster, "gw-a"), token, READ, {"c": third})
    assert over["data"]["organization"]["enterpriseRegistration"]["address"] is None
    assert codes_of(over), over  # the cap refuses the third distinct subject, whichever gateway
    again = post(url_of(cluster, "gw-b"), token, READ, {"c": first})  # a subject counted today passes
    assert again["data"]["organization"]["enterpriseRegistration"]["address"]


def test_a_compare_rate_limit_is_one_budget_across_gateways(cluster: Cluster):
    token, _ = consumer_with_grant(cluster)
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}

    def compare(name: str) -> httpx.Response:
        body = {"resource": RESOURCE, "subject": cluster.codes[5], "claims": {"name": "某公司"}}
        return httpx.post(url_of(cluster, name).replace("/graphql", "/compare"), json=body, headers=headers,
                          timeout=30)  # fmt: skip

    assert compare("gw-a").status_code == 200
    assert compare("gw-b").status_code == 200  # the burst of 2, spent across both
    refused = compare("gw-a")
    assert refused.status_code == 429, refused.text
    assert "compare_rate" in json.dumps(refused.json())


def test_the_guess_budget_is_not_doubled_by_claiming_through_both_gateways_at_once(cluster: Cluster):
    """GOVSHARE_COMPARE_GUESSES=1: two mismatching claims of one conditional item of one
    subject, sent at the same moment to gw-a and gw-b, learn at most ONE mismatch (the other is
    refused, compare_guesses). Reading the budget and spending it later let both pass."""
    legal = "amr.enterprise_registration"

    def claim(name: str, token: str, subject: str, value: str, ready: threading.Barrier) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}
        body = {"resource": legal, "subject": subject, "claims": {"legal_representative": value}}
        ready.wait()
        return dict(httpx.post(url_of(cluster, name).replace("/graphql", "/compare"), json=body,
                               headers=headers, timeout=30).json())  # fmt: skip

    for round_ in range(4):
        token, _ = consumer_with_grant(cluster)
        subject, ready = (
            cluster.codes[round_ % len(cluster.codes)],
            threading.Barrier(2),
        )  # a fresh consumer: its own budget
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            futures = [
                pool.submit(claim, name, token, subject, f"某{name}", ready) for name in ("gw-a", "gw-b")
            ]
            answers = [f.result() for f in futures]
        learned = [a for a in answers if a.get("items", {}).get("legal_representative") == "mismatch"]
        assert len(learned) == 1, answers
        refused = next(a for a in answers if a not in learned)
        assert refused["errors"][0]["extensions"]["reasons"] == ["compare_guesses"], refused


def test_a_gateway_whose_redis_is_down_refuses_compare_with_503_never_uncounted(cluster: Cluster):
    """Redis unreachable (here: a closed port): compare is refused with 503
    RATE_STORE_UNAVAILABLE and Retry-After, by HTTP and by the GraphQL field; never a 500,
    never admitted without counting; reading goes on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    env = environment(
        cluster.url, GOVSHARE_INSTANCE="gw-noredis", GOVSHARE_REDIS_URL=f"redis://127.0.0.1:{closed}/0"
    )
    process, url = serve(cluster.data, env, "gw-noredis", "--workers", "1")
    try:
        token, _ = consumer_with_grant(cluster)
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}
        body = {"resource": RESOURCE, "subject": cluster.codes[0], "claims": {"legal_representative": "某"}}
        refused = httpx.post(url.replace("/graphql", "/compare"), json=body, headers=headers, timeout=30)
        assert refused.status_code == 503, refused.text
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_STORE_UNAVAILABLE"
        assert refused.headers["Retry-After"] == "5"
        query = """query($s: String!) { compare(resource: "amr.enterprise_registration", subject: $s,
          claims: {legal_representative: "某"}) { items { item outcome } } }"""
        field = post(url, token, query, {"s": cluster.codes[0]})
        assert codes_of(field) == ["RATE_STORE_UNAVAILABLE"], field
        assert post(url, token, READ, {"c": cluster.codes[0]})["data"]["organization"]  # reading goes on
    finally:
        stop(process)


def voucher_event(answer: dict[str, Any]) -> str:
    """The audit event id a voucher names (its payload, read without verifying: the test
    looks the event up itself)."""
    payload = answer["extensions"]["voucher"].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["aid"])


def load(url: str, token: str, codes: list[str], stop_at: threading.Event) -> list[str]:
    """Send reads until ``stop_at``; the audit event ids of the answered ones."""
    answered = []
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE)}
    with httpx.Client(headers=headers, timeout=10) as client:
        n = 0
        while not stop_at.is_set():
            n += 1
            try:
                response = client.post(url, json={"query": READ, "variables": {"c": codes[n % len(codes)]}})
            except httpx.HTTPError:
                return answered  # the gateway died: nothing more is answered
            if response.status_code == 200 and "voucher" in response.json().get("extensions", {}):
                answered.append(voucher_event(response.json()))
    return answered


def test_killing_one_gateway_under_load_loses_no_answered_event_and_the_other_serves(cluster: Cluster):
    token, _ = consumer_with_grant(cluster)
    env = environment(cluster.url, GOVSHARE_INSTANCE="gw-victim")
    victim, victim_url = serve(cluster.data, env, "victim", "--workers", "1")
    stop_at = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        on_victim = [pool.submit(load, victim_url, token, cluster.codes, stop_at) for _ in range(4)]
        on_other = [
            pool.submit(load, url_of(cluster, "gw-b"), token, cluster.codes, stop_at) for _ in range(2)
        ]
        time.sleep(1.5)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        time.sleep(1.0)  # the other gateway keeps serving after the kill
        stop_at.set()
        killed = [event for future in on_victim for event in future.result()]
        survived = [event for future in on_other for event in future.result()]
    assert killed and survived
    after = post(url_of(cluster, "gw-b"), token, READ, {"c": cluster.codes[0]})
    assert after["data"]["organization"]["enterpriseRegistration"]["address"]

    async def stored(ids: list[str]) -> set[str]:
        engine = create_async_engine(cluster.url)
        try:
            async with engine.connect() as conn:
                found = await conn.scalars(
                    sa.text("SELECT id FROM audit_events WHERE id = ANY(:ids)"), {"ids": ids}
                )
                return set(found.all())
        finally:
            await engine.dispose()

    assert set(killed + survived) <= asyncio.run(stored(killed + survived))  # every answer has its event
    command = [sys.executable, "-m", "gateway.cli", "audit", "verify", "--data", str(cluster.data)]
    verified = subprocess.run(command, env=environment(cluster.url), capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ok: ")


def test_serve_with_two_workers_answers_from_both_each_with_its_own_chain(cluster: Cluster):
    token, _ = consumer_with_grant(cluster)
    env = environment(cluster.url, GOVSHARE_INSTANCE="gw-pool")
    process, url = serve(cluster.data, env, "pool", "--workers", "2")
    pool_chains = {"gw-pool-w0", "gw-pool-w1"}
    try:
        answered: set[str] = set()
        deadline = time.monotonic() + 150  # both workers up (spawned interpreters start slowly under load)
        while answered != pool_chains and time.monotonic() < deadline:
            with concurrent.futures.ThreadPoolExecutor(8) as pool:  # concurrent: both accept some
                codes = [cluster.codes[n % len(cluster.codes)] for n in range(16)]
                answers = list(pool.map(lambda code: post(url, token, READ, {"c": code}), codes))
            assert all(not answer.get("errors") for answer in answers), answers
            answered |= asyncio.run(instances_of(cluster.url, [voucher_event(a) for a in answers]))
    finally:
        stop(process)
    assert answered == pool_chains, (cluster.data / "serve-pool.log").read_text()[-4000:]


async def instances_of(url: str, events: list[str]) -> set[str]:
    """The audit chains that hold ``events``."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            query = "SELECT DISTINCT instance FROM audit_events WHERE id = ANY(:ids)"
            return set((await conn.scalars(sa.text(query), {"ids": events})).all())
    finally:
        await engine.dispose()


def test_keys_rotated_once_are_picked_up_by_every_gateway(cluster: Cluster):
    token_before, _ = consumer_with_grant(cluster)
    command = [sys.executable, "-m", "gateway.cli", "keys", "rotate", "--data", str(cluster.data)]
    rotated = subprocess.run(command, env=environment(cluster.url), capture_output=True, text=True)
    assert rotated.returncode == 0, rotated.stderr
    new_kid = json.loads(rotated.stdout)["current"]
    token_after = cluster.token(fresh_department())  # signed with the new key
    assert json.loads(base64.urlsafe_b64decode(token_after.split(".")[0] + "=="))["kid"] == new_kid
    for name in ("gw-a", "gw-b"):
        answer = post(url_of(cluster, name), token_after, "{ __typename }", {})
        assert answer == {"data": {"__typename": "Query"}}, answer
        jwks = httpx.get(
            url_of(cluster, name).replace("/graphql", "/.well-known/jwks.json"), timeout=10
        ).json()
        assert new_kid in {key["kid"] for key in jwks["keys"]}
        still = post(url_of(cluster, name), token_before, "{ __typename }", {})  # the old key verifies on
        assert still == {"data": {"__typename": "Query"}}, still
