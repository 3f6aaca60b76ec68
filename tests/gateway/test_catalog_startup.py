"""A data folder from before the catalog store (platform database at revision 0002): it is
upgraded on start (revision 0004, SQLite), its YAML catalog becomes the published version,
and nothing else is lost."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from gateway.app import Gateway
from gateway.catalog_store import CatalogEntryRow, CatalogEventRow, CatalogMetaRow
from gateway.demo import build_demo
from gateway.settings import Settings
from policies.catalog import Catalog, load_catalog


async def test_an_existing_data_folder_gains_its_catalog_on_start(tmp_path: Path) -> None:
    build_demo(tmp_path, organizations=5, persons=5)
    settings = Settings.load({}, data=str(tmp_path))
    gateway = await Gateway.start(settings)
    grants = await gateway.platform.all_grants()
    async with gateway.platform.engine.begin() as conn:  # the schema as it was before: revision 0003
        for table in (CatalogEntryRow, CatalogEventRow, CatalogMetaRow):
            await conn.execute(sa.text(f"DROP TABLE {table.__tablename__}"))
        await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0003'"))
    await gateway.close()
    gateway = await Gateway.start(settings)
    try:
        served = gateway.catalog
        expected = load_catalog(tmp_path / "catalog.yaml")
        assert served == Catalog(expected.profile, expected.departments, expected.resources)
        assert await gateway.platform.all_grants() == grants
        store = gateway.federation.catalog_store
        assert store is not None and (await store.fingerprint())["files"]  # the import recorded
    finally:
        await gateway.close()
