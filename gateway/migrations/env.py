"""Alembic's environment for the platform database (configured by gateway.dbschema).

govshare passes the connection to migrate in ``config.attributes["connection"]``, inside the
transaction and lock it holds (gateway.dbschema.upgrade): the revisions run in that
transaction. Run from Alembic's own command line (``alembic -x url=...``, a developer's
convenience), it opens the URL given (async drivers included) itself. Offline (``--sql``)
mode is not supported: the baseline creates its tables through a live connection.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.dbschema import platform_metadata
from gateway.platform import UTCDateTime


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes ``UTCDateTime`` as the DDL it stands for: a revision must not
    import model code, which changes after it is written."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=platform_metadata(),
        render_as_batch=True,  # SQLite alters a table by copying it; batch mode writes that
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_url(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("govshare migrations run online only: drop --sql")
given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("name the database: alembic -x url=postgresql+asyncpg://... upgrade head")
    asyncio.run(run_url(url))
