"""gateway.sqlite_turn: the cross-process turn to write a SQLite file. Two ``WriteTurn``s of
one file hold two open file descriptions, as two processes do, so ``flock`` sets them against
each other exactly as it sets the workers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.sqlite_turn import WriteTurn, write_turn


async def test_a_second_writer_waits_for_the_turn_and_gets_it_as_soon_as_it_is_let_go(tmp_path: Path):
    first, second = WriteTurn(tmp_path / "p.db"), WriteTurn(tmp_path / "p.db")
    order: list[str] = []

    async def hold() -> None:
        async with first:
            order.append("first in")
            await asyncio.sleep(0.3)
            order.append("first out")
            released.append(time.monotonic())

    async def wait() -> None:
        await asyncio.sleep(0.05)
        async with second:
            order.append("second in")
            taken.append(time.monotonic())

    released: list[float] = []
    taken: list[float] = []
    await asyncio.gather(hold(), wait())
    assert order == ["first in", "first out", "second in"]
    assert taken[0] - released[0] < 0.1  # woken at the release, not after a back-off sleep


async def test_a_waiter_cancelled_by_a_timeout_does_not_keep_the_turn(tmp_path: Path):
    holder, lost, later = (WriteTurn(tmp_path / "p.db") for _ in range(3))
    await holder.__aenter__()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await lost.__aenter__()
    await holder.__aexit__(None, None, None)
    async with asyncio.timeout(2):  # the lost waiter's thread got the lock and gave it back
        async with later:
            pass
    async with asyncio.timeout(2):  # and the lost one may take a turn again
        async with lost:
            pass


async def test_writers_of_one_process_take_turns_in_order(tmp_path: Path):
    turn = WriteTurn(tmp_path / "p.db")
    inside: list[int] = []
    most = 0

    async def write(n: int) -> None:
        nonlocal most
        async with turn:
            inside.append(n)
            most = max(most, len(inside))
            await asyncio.sleep(0.01)
            inside.remove(n)

    await asyncio.gather(*(write(n) for n in range(8)))
    assert most == 1


@pytest.mark.parametrize(
    ("url", "turns"),
    [("sqlite+aiosqlite:///{tmp}/p.db", True), ("sqlite+aiosqlite://", False),
     ("postgresql+asyncpg://u@127.0.0.1/db", False)],
)  # fmt: skip
async def test_only_a_sqlite_file_has_a_turn(tmp_path: Path, url: str, turns: bool):
    engine = create_async_engine(url.format(tmp=tmp_path))
    try:
        assert isinstance(write_turn(engine), WriteTurn) is turns
        if turns:
            assert write_turn(engine) is write_turn(engine)  # one per file and loop
    finally:
        await engine.dispose()
