"""``python -m gateway.bench_search``: catalog search in the database index against a scan.

Builds a catalog of ``--resources`` resources (default 2,000; ``generated_catalog``: the
demo catalog's resources copied under new ids, names, summaries and item titles drawn from
government-register words, every tenth open, providers those of the templates),
indexes it (``gateway.catalog_search``) in ``--database-url`` (default SQLite in a
temporary folder) and times, per search text, the median of ``--repeat`` runs (default 20)
of one page (``first`` 20, with its total) from the index and from
``policies.catalog_query.scan_page`` (Python over the ``Catalog`` object). Prints one line
per search and the ratio scan / index, measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from gateway.catalog_search import CatalogSearch
from policies.catalog import Catalog, Resource, load_catalog
from policies.catalog_query import catalog_query, scan_page

DEMO_CATALOG = Path(__file__).with_name("demo_catalog.yaml")
WORDS = (
    "企业", "登记", "纳税", "信用", "社会保险", "婚姻", "住房公积金", "安全生产", "许可", "处罚",
    "年报", "资质", "不动产", "车辆", "医疗", "教育", "户籍", "养老", "环境", "统计",
)  # fmt: skip
SEARCHES = ("法定代表人", "代表人", "住房公积金", "安全生产许可", "信用", "unknown-text")


def generated_catalog(size: int, base: Catalog | None = None) -> Catalog:
    """``size`` resources made from ``base``'s (default: the demo catalog), each with a
    distinct id, field, name and summary, items retitled with a serial, every tenth open
    (providers stay the templates': each has a connector)."""
    base = base or load_catalog(DEMO_CATALOG)
    templates = list(base.resources.values())
    resources: dict[str, Resource] = {}
    for n in range(size):
        resource = _copy(templates[n % len(templates)], n)
        resources[resource.id] = resource
    return dataclasses.replace(base, resources=resources)


def _copy(template: Resource, n: int) -> Resource:
    word, other = WORDS[n % len(WORDS)], WORDS[(n * 7 + 3) % len(WORDS)]
    items = tuple(dataclasses.replace(item, title=f"{item.title}{n}") for item in template.items)
    return dataclasses.replace(
        template,
        id=f"gen.r{n:05d}",
        field=f"r{n:05d}",
        code=f"420100-GEN-{n:05d}",
        name=f"{word}{other}信息{n}",
        summary=f"{other}相关的{word}资源 第{n}号",
        open=n % 10 == 0,
        items=items,
        items_by_name={},
    )


async def _median(run: Callable[[], Awaitable[Any]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def bench(size: int, repeat: int, url: str) -> list[tuple[str, float, float]]:
    """(search, index seconds, scan seconds) per search text, medians of ``repeat`` runs."""
    catalog = generated_catalog(size)
    engine = create_async_engine(url)
    search = CatalogSearch(engine)
    try:
        await search.create_tables()
        await search.index(catalog)
        rows = []
        for text in SEARCHES:
            query = catalog_query(catalog, search=text)

            async def indexed(query: Any = query) -> Any:
                return await search.find(query, 20)

            async def scanned(query: Any = query) -> Any:
                return scan_page(catalog, query, 20)

            rows.append((text, await _median(indexed, repeat), await _median(scanned, repeat)))
        return rows
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway.bench_search", description=__doc__)
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{folder}/platform.db"
        rows = asyncio.run(bench(args.resources, args.repeat, url))
    backend = url.split("+")[0].split(":")[0]
    print(f"catalog search, {args.resources} resources, {backend}, median of {args.repeat} (ms)")
    for text, indexed, scanned in rows:
        print(
            f"  {text:<14} index {indexed * 1000:8.2f}  scan {scanned * 1000:8.2f}"
            f"  scan/index {scanned / indexed:6.1f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
