"""connectors/file.py: a CSV replaced while being read (readers see the old or the new
complete content, never a mix or half), malformed rows named by file and line, settings
refused at load. The contract itself is tests/connectors/test_contract.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from connectors import file as file_connector
from connectors.base import open_connector
from connectors.file import FileConnector
from errors import ConfigurationError, SourceUnavailable

KEYS = [f"K{i:04d}" for i in range(3000)]
ITEMS = ["uscc", "status", "count"]


def content(version: str) -> str:
    rows = "".join(f"{k},{version},{i}\n" for i, k in enumerate(KEYS))
    return "uscc,status,count\n" + rows


def replace(path: Path, text: str) -> None:
    """As a department should drop a file: write aside, then rename over (atomic)."""
    aside = path.with_suffix(".tmp")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path)


def open_file(folder: Path) -> FileConnector:
    connector = open_connector({"kind": "file", "folder": str(folder), "timeout": 10}, folder)
    assert isinstance(connector, FileConnector)
    return connector


async def test_a_file_replaced_while_being_read_is_seen_whole_old_or_new(tmp_path: Path) -> None:
    path = tmp_path / "deposits.csv"
    replace(path, content("A"))
    connector = open_file(tmp_path)
    binding = connector.bind({"file": "deposits.csv", "types": {"count": "integer"}}, ITEMS, "uscc")
    stop = threading.Event()

    def department() -> None:  # drops A and B in turn, as fast as it can
        version = 0
        while not stop.is_set():
            version += 1
            replace(path, content("AB"[version % 2]))

    writer = threading.Thread(target=department)
    writer.start()
    seen: set[str] = set()
    try:
        for _ in range(60):
            answers = await asyncio.gather(
                connector.fetch(binding, KEYS, ["status", "count"]),
                connector.scan(binding, ["status"], limit=5000),
            )
            rows, scanned = answers
            assert set(rows) == set(KEYS), "a reader saw a half-loaded file"
            versions = {row["status"] for row in rows.values()}
            assert len(versions) == 1, f"a reader saw two files mixed: {versions}"
            assert [r["count"] for r in rows.values()] == list(range(len(KEYS)))
            assert len(scanned) == len(KEYS) and len({r["status"] for r in scanned}) == 1
            seen |= versions
            await asyncio.sleep(0.005)
    finally:
        stop.set()
        writer.join()
    assert seen == {"A", "B"}, "the file was never reloaded"
    await connector.close()


async def test_a_changed_file_is_reloaded_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("uscc,status,count\nK1,甲,1\n", encoding="utf-8")
    connector = open_file(tmp_path)
    binding = connector.bind({"file": "d.csv"}, ITEMS, "uscc")
    assert await connector.fetch(binding, ["K1"], ["status"]) == {"K1": {"status": "甲"}}
    first = connector._loaded[binding]
    assert await connector.fetch(binding, ["K1"], ["status"]) == {"K1": {"status": "甲"}}
    assert connector._loaded[binding] is first  # not read again
    replace(path, "uscc,status,count\nK1,乙,1\nK2,丙,2\n")
    assert await connector.fetch(binding, ["K1", "K2"], ["status"]) == {
        "K1": {"status": "乙"},
        "K2": {"status": "丙"},
    }
    path.unlink()
    with pytest.raises(SourceUnavailable, match="does not exist"):
        await connector.fetch(binding, ["K1"], ["status"])


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("uscc,status,count\nK1,甲,1\nK2,乙\n", 3, "2 fields where the header has 3"),
        ("uscc,status,count\nK1,甲,1\nK2,乙,2,3\n", 3, "4 fields"),
        ("uscc,status,count\nK1,甲,1\n\nK1,乙,2\n", 4, "repeats line 2"),
        ("uscc,status,count\n,甲,1\n", 2, "key uscc is empty"),
        ("uscc,status,count\nK1,甲,1\nK2,乙,many\n", 3, "column count: the value is not an integer"),
        (
            'uscc,status,count\nK1,"甲\n多行",1\nK2,乙,x\n',
            4,
            "not an integer",
        ),  # a quoted field spans lines 2-3
        ("uscc,status,count,updated_at\nK1,甲,1,yesterday\n", 2, "not an ISO 8601 date-time"),
        ("uscc,state\nK1,甲\n", 1, "no column 'status'"),
        (
            'uscc,status,count\nK1,ok,1\nK2,"many,2\nK3,many,3\n',
            3,
            "unexpected end of data",
        ),  # unclosed quote
        ('uscc,status,count\nK1,"ok"many,1\n', 2, "expected after"),  # text after a closing quote
        ("uscc,status,status,count\nK1,ok,many,1\n", 1, "names column 'status' twice"),
        ("", 1, "the file is empty"),
    ],
)
async def test_a_malformed_file_is_named_with_its_line(
    tmp_path: Path, text: str, line: int, what: str
) -> None:
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    connector = open_file(tmp_path)
    stamp = "updated_at" if "updated_at" in text else None
    source = {"file": "d.csv", "types": {"count": "integer"}, "updated_at": stamp}
    binding = connector.bind(source, ITEMS, "uscc")
    for _ in range(2):  # the second call answers from the remembered failure
        with pytest.raises(SourceUnavailable) as caught:
            await connector.fetch(binding, ["K1"], ["status"])
        message = caught.value.message
        assert str(tmp_path / "d.csv") in message and what in message
        assert "many" not in message and "yesterday" not in message  # stored values stay out of logs
        if text:
            assert f"line {line}:" in message
    (tmp_path / "d.csv").write_text("uscc,status,count,updated_at\nK1,好,1,\n", encoding="utf-8")
    os.utime(tmp_path / "d.csv", ns=(1, 1))  # a different identity even within one clock tick
    assert await connector.fetch(binding, ["K1"], ["status"]) == {"K1": {"status": "好"}}


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"encoding": "klingon"}, "encoding"),
        ({"delimiter": ";;"}, "delimiter"),
        ({"timeout": -1}, "timeout"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": "1 GB"}, "max_bytes"),
    ],
)
def test_bad_connector_settings_are_refused(tmp_path: Path, settings: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        open_connector({"kind": "file", **settings}, tmp_path)


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ({}, "file"),
        ({"file": "x.csv", "types": {"count": "decimal"}}, "source.types.count"),
        ({"file": "x.csv", "types": {"shoe": "integer"}}, "source.types.shoe"),
        ({"file": "x.csv", "types": {"uscc": "integer"}}, "source.types: the key column"),
    ],
)
def test_bad_source_settings_are_refused(tmp_path: Path, source: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named.replace(".", r"\.")):
        open_file(tmp_path).bind(source, ITEMS, "uscc")


async def test_semicolons_and_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_bytes("\ufeffuscc;status;count\nK1;甲;1\n".encode())
    connector = open_connector({"kind": "file", "delimiter": ";"}, tmp_path)
    binding = connector.bind({"file": "d.csv"}, ITEMS, "uscc")
    assert await connector.fetch(binding, ["K1"], ITEMS) == {
        "K1": {"uscc": "K1", "status": "甲", "count": "1"}
    }


async def test_each_load_and_each_refusal_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "d.csv"
    path.write_text("uscc,status,count\nK1,甲,1\nK1,乙,2\n", encoding="utf-8")
    connector = open_file(tmp_path)
    binding = connector.bind({"file": "d.csv"}, ITEMS, "uscc")
    with caplog.at_level("INFO", logger="govshare.connectors"):
        for _ in range(3):
            with pytest.raises(SourceUnavailable):
                await connector.fetch(binding, ["K1"], ["status"])
        replace(path, "uscc,status,count\nK1,甲,1\n")
        for _ in range(3):
            await connector.fetch(binding, ["K1"], ["status"])
    lines = [r.getMessage() for r in caplog.records]
    refused = f"{path} line 3: the key uscc repeats line 2; fix the file and drop it again"
    assert lines == [f"file {path} not loaded: {refused}", f"file {path} loaded: 1 rows"]


async def test_stamps_with_and_without_an_offset_load_and_filter(tmp_path: Path) -> None:
    """A department's export may write ``Z`` or ``+08:00`` on some stamps: China time, as a
    naive stamp is; the mix loaded as a TypeError (an INTERNAL answer) before."""
    (tmp_path / "mixed.csv").write_text(
        "uscc,status,updated_at\n"
        "K1,a,2026-01-01T09:00:00\n"
        "K2,b,2026-01-01T02:00:00Z\n"  # 10:00 in China
        "K3,c,2026-01-01T08:00:00+08:00\n",
        encoding="utf-8",
    )
    connector = open_file(tmp_path)
    binding = connector.bind({"file": "mixed.csv", "updated_at": "updated_at"}, ["uscc", "status"], "uscc")
    assert await connector.freshness(binding) == dt.datetime(2026, 1, 1, 10)
    since = await connector.scan(binding, ["status"], since=dt.datetime(2026, 1, 1, 8, 30))
    assert [row["__key__"] for row in since] == ["K1", "K2"]
    await connector.close()


async def test_bytes_not_of_the_encoding_are_named_by_line_never_quoted(tmp_path: Path) -> None:
    """A GBK export read as UTF-8: the line, the encoding and the fix, never the bytes."""
    (tmp_path / "d.csv").write_bytes("uscc,status,count\nK1,ok,1\nK2,张三,2\n".encode("gbk"))
    connector = open_file(tmp_path)
    binding = connector.bind({"file": "d.csv"}, ITEMS, "uscc")
    with pytest.raises(SourceUnavailable) as caught:
        await connector.fetch(binding, ["K1"], ["status"])
    assert (await connector.check(binding)).ok  # the header is fine: the check reads no further
    (tmp_path / "h.csv").write_bytes("uscc,张三,count\n".encode("gbk"))
    with pytest.raises(SourceUnavailable) as header:  # a check reads the header line only
        await connector.check(connector.bind({"file": "h.csv"}, ITEMS, "uscc"))
    for error, line in ((caught.value, 3), (header.value, 1)):
        message = error.message.replace(str(tmp_path), "")  # the test's folder is named after it
        assert f"line {line}:" in message and "utf-8-sig" in message and "encoding:" in message
        assert "0x" not in message and "\\x" not in message and "byte" not in message
    gbk = open_connector({"kind": "file", "folder": str(tmp_path), "encoding": "gb18030"}, tmp_path)
    assert await gbk.fetch(gbk.bind({"file": "d.csv"}, ITEMS, "uscc"), ["K2"], ["status"]) == {
        "K2": {"status": "张三"}
    }


@pytest.mark.parametrize("name", ["../d.csv", "sub/../../d.csv", "/etc/passwd", ""])
def test_a_file_outside_the_folder_is_refused_at_load(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError, match="file"):
        open_file(tmp_path / "drop").bind({"file": name}, ITEMS, "uscc")


async def test_a_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    """The department writes its drop folder; a link there must not serve another file."""
    drop = tmp_path / "drop"
    drop.mkdir()
    (tmp_path / "other.csv").write_text("uscc,status,count\nK1,other's,1\n", encoding="utf-8")
    (drop / "d.csv").symlink_to(tmp_path / "other.csv")
    (drop / "real.csv").write_text("uscc,status,count\nK1,ours,1\n", encoding="utf-8")
    (drop / "inside.csv").symlink_to(drop / "real.csv")
    connector = open_file(drop)
    binding = connector.bind({"file": "d.csv"}, ITEMS, "uscc")
    for call in (connector.fetch(binding, ["K1"], ["status"]), connector.check(binding)):
        with pytest.raises(SourceUnavailable, match="outside"):
            await call
    inside = connector.bind({"file": "inside.csv"}, ITEMS, "uscc")
    assert await connector.fetch(inside, ["K1"], ["status"]) == {"K1": {"status": "ours"}}


async def test_a_file_larger_than_max_bytes_is_refused_unread(tmp_path: Path) -> None:
    """A drop far beyond a department's few MB would hold the gateway's memory and outlast
    every call's timeout while a worker thread kept reading it: its size is checked first."""
    (tmp_path / "d.csv").write_text(content("A"), encoding="utf-8")  # 3,000 rows, about 30 KB
    small = open_connector({"kind": "file", "folder": str(tmp_path), "max_bytes": 10_000}, tmp_path)
    with pytest.raises(SourceUnavailable, match="max_bytes"):
        await small.fetch(small.bind({"file": "d.csv"}, ITEMS, "uscc"), ["K0001"], ["status"])
    roomy = open_connector({"kind": "file", "folder": str(tmp_path), "max_bytes": 100_000}, tmp_path)
    assert await roomy.fetch(roomy.bind({"file": "d.csv"}, ITEMS, "uscc"), ["K0001"], ["status"]) == {
        "K0001": {"status": "A"}
    }


async def test_a_hung_file_system_costs_one_timeout_and_never_blocks_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drop folders are often network shares: a stat there can hang. It ran on the event
    loop, stalling every request of every department; now it runs in a worker thread, one
    at a time per file, and the call gives up at its timeout. (The hang is simulated at the
    one boundary a test cannot reach: the file system's stat.)"""
    (tmp_path / "d.csv").write_text(content("A"), encoding="utf-8")
    connector = open_connector({"kind": "file", "folder": str(tmp_path), "timeout": 0.3}, tmp_path)
    binding = connector.bind({"file": "d.csv"}, ITEMS, "uscc")
    release, stats = threading.Event(), []

    def hung(path: str) -> None:
        stats.append(path)
        release.wait(5)

    monkeypatch.setattr(file_connector, "_identity", hung)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    running = asyncio.ensure_future(ticker())
    started = time.monotonic()
    calls = [connector.fetch(binding, ["K0001"], ["status"]) for _ in range(20)]
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    elapsed = time.monotonic() - started
    running.cancel()
    release.set()
    assert all(isinstance(o, SourceUnavailable) for o in outcomes)
    assert elapsed < 1.0 and ticks > 10  # the loop kept running meanwhile
    assert len(stats) == 1  # one stat in flight for all 20 calls: no thread pool drained
    await connector.close()


async def test_a_utf16_tab_separated_export_is_read_and_checked(tmp_path: Path) -> None:
    """Excel's "Unicode text" export: UTF-16 with a byte order mark, tab-separated. The
    check read the header line by bytes up to b"\\n" (half a UTF-16 character) and called a
    file unreadable that every fetch read."""
    (tmp_path / "d.tsv").write_text("uscc\tstatus\tcount\nK1\t甲\t1\n", encoding="utf-16")
    settings = {"kind": "file", "folder": str(tmp_path), "encoding": "utf-16", "delimiter": "\t"}
    connector = open_connector(settings, tmp_path)
    binding = connector.bind({"file": "d.tsv"}, ITEMS, "uscc")
    assert (await connector.check(binding)).ok
    assert await connector.fetch(binding, ["K1"], ["status"]) == {"K1": {"status": "甲"}}
