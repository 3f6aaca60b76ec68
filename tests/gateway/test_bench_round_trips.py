"""gateway.bench's round-trip count: it must listen where a SQL connector's reads go
(``SQLConnector.read_engine``: a SQLite file is read in its own threads); listening on the
asyncio engine it printed 0 source round trips for 100 organizations (found by a fresh
reviewer, stop 17)."""

from __future__ import annotations

from pathlib import Path

from gateway.bench import round_trips_for_100
from gateway.demo import build_demo


async def test_the_bench_counts_the_source_round_trips_of_a_100_organization_query(tmp_path: Path) -> None:
    build_demo(tmp_path, organizations=100, persons=2)
    subjects, trips = await round_trips_for_100(tmp_path)
    assert subjects == 100
    assert trips == 3  # one batched SELECT per department (3 in the bench's query)
