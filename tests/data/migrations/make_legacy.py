r"""Make a platform database the way govshare did BEFORE migrations (commit 7133902), with data
in it, through that version's own code paths: the demo (applications approved, grants), the
gateway serving GraphQL (answered and refused reads: audit events, usage aggregates), an
application submitted, an objection raised, a change notice, an OAuth client, a grant added
and revoked on the command line (audit chain "cli").

Run it INSIDE a checkout of 7133902, not this tree (the dumps under tests/data/migrations/
were made so; redo them only to add data, never from newer code):

    git archive 7133902 | tar -x -C /tmp/old && cd /tmp/old
    PYTHONPATH=. python3 $REPO/tests/data/migrations/make_legacy.py /tmp/legacy-data
    sqlite3 /tmp/legacy-data/platform.db .dump > $REPO/tests/data/migrations/platform-7133902.sqlite.sql
    createdb legacy && GOVSHARE_DATABASE_URL=postgresql+asyncpg://.../legacy \
      PYTHONPATH=. python3 $REPO/tests/data/migrations/make_legacy.py /tmp/legacy-pg
    pg_dump --no-owner --no-privileges --inserts legacy \
      | grep -v -E '^(SET |SELECT pg_catalog.set_config|--|\\)' \
      | cat -s > $REPO/tests/data/migrations/platform-7133902.postgresql.sql

The demo's tokens live 7 days: the tests issue their own with a fresh key set.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import json
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

from gateway import cli
from gateway.app import Gateway, create_app
from gateway.demo import (
    AMR,
    DRC,
    GRANT_PURPOSE,
    HOUSING,
    SAMPLE_ORGANIZATION_QUERY,
    build_demo,
    demo_tokens,
    ensure_grant,
)
from gateway.demo_applications import approve_demo_consumers
from gateway.settings import Settings

AMR_RID = "amr.enterprise_registration"
PURPOSE = "住房保障资格审核"
SUBMIT = """mutation Submit($application: ApplicationInput!) {
  submitApplication(application: $application) { id status consumer }
}"""
RAISE = """mutation Raise($resource: String!, $subject: String!, $item: String!, $reason: String!) {
  raiseObjection(resource: $resource, subject: $subject, item: $item, reason: $reason) { id status }
}"""


async def serve_some(settings: Settings, codes: list[str]) -> None:
    gateway = await Gateway.start(settings)
    app = create_app(settings, gateway)
    app.state.gateway = gateway
    tokens = demo_tokens(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:

        async def post(query: str, variables: dict[str, object], who: str) -> dict[str, object]:
            headers = {"Authorization": f"Bearer {tokens[who]}", "X-Purpose": quote(GRANT_PURPOSE)}
            response = await client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            print(who, response.status_code, response.text[:160], file=sys.stderr)
            return dict(response.json())

        for code in codes[:4]:  # answered with the conditional items (DRC holds the demo grant)
            await post(SAMPLE_ORGANIZATION_QUERY, {"code": code}, "consumer_with_grant")
        legal = (
            "query O($code: USCC!) { organization(code: $code) "
            "{ enterpriseRegistration { legalRepresentative } } }"
        )
        for code in codes[:2]:  # refused: HOUSING holds no grant for the conditional item
            await post(legal, {"code": code}, "consumer")
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=90)).isoformat()
        application = {
            "resource": AMR_RID,
            "items": ["address"],
            "purpose": PURPOSE,
            "scopeOfKnowledge": "住房保障科审核人员",
            "securityMeasures": "政务外网专线，调用留痕",
            "legalBasis": "《公共租赁住房管理办法》第八条",
            "validUntil": until,
            "modes": ["QUERY"],
        }
        await post(SUBMIT, {"application": application}, "consumer")
        reason = "住所与营业执照不一致"
        objection = {"resource": AMR_RID, "subject": codes[0], "item": "address", "reason": reason}
        await post(RAISE, objection, "consumer_with_grant")
    await gateway.close()


def main(data_dir: Path) -> None:
    samples = build_demo(data_dir, organizations=30, persons=10)
    settings = Settings.load(data=str(data_dir))
    asyncio.run(approve_demo_consumers(settings))  # as `govshare demo` does: build_demo's went to SQLite
    asyncio.run(ensure_grant(settings))
    asyncio.run(serve_some(settings, samples["organizations"]))
    data = ["--data", str(data_dir)]
    assert (
        cli.main(
            [
                "client",
                "create",
                "--department",
                HOUSING.code,
                "--roles",
                "consumer",
                "--name",
                "住房保障系统",
                *data,
            ]
        )
        == 0
    )
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    assert (
        cli.main(
            [
                "grant",
                "add",
                "--consumer",
                HOUSING.code,
                "--resource",
                AMR_RID,
                "--items",
                "address",
                "--purpose",
                PURPOSE,
                "--until",
                until,
                *data,
            ]
        )
        == 0
    )
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        assert (
            cli.main(
                [
                    "grant",
                    "add",
                    "--consumer",
                    HOUSING.code,
                    "--resource",
                    AMR_RID,
                    "--items",
                    "address",
                    "--purpose",
                    PURPOSE,
                    "--until",
                    until,
                    *data,
                ]
            )
            == 0
        )
    assert cli.main(["grant", "revoke", json.loads(printed.getvalue())["id"], *data]) == 0
    assert (
        cli.main(
            [
                "notify-change",
                "--resource",
                AMR_RID,
                "--subjects",
                samples["organizations"][1],
                "--items",
                "address",
                *data,
            ]
        )
        == 0
    )
    print(AMR.code, DRC.code, file=sys.stderr)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
