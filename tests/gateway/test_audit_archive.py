"""Audit archive and prune (gateway.audit_archive) on SQLite and PostgreSQL: signed archives
verifiable offline, the live chains anchored and still verifying, nothing pruned that is not
in a verified archive, an empty range a no-op, tampered archives refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import create_async_engine

from errors import AuditUnavailable, BadRequest
from gateway import audit_archive
from gateway.audit import verify_chain
from gateway.audit_archive import ARCHIVE_TYPE, EVENTS_FILE, archive_and_prune, parse_age, verify_archive
from gateway.auth import Signer, load_signer
from gateway.package import MANIFEST, PACKAGE_TYPE, SIGNATURE, sign_manifest
from tests.gateway.test_audit import Store, event

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
async def store(platform_url: str) -> AsyncIterator[Store]:
    table = f"audit_a_{uuid.uuid4().hex[:12]}"
    yield Store(platform_url, table)
    engine = create_async_engine(platform_url)
    async with engine.begin() as conn:
        for suffix in ("", "_resources", "_usage", "_meta", "_anchors"):
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}{suffix}"))
    await engine.dispose()


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return load_signer(tmp_path / "keys")


def clock_at(times: list[dt.datetime]) -> Callable[[], dt.datetime]:
    """A clock giving ``times`` in turn (one per appended event)."""
    pending = iter(times)
    return lambda: next(pending)


async def write(store: Store, instance: str, hours_ago: list[int]) -> None:
    """One event per entry, ``hours_ago`` before NOW, on chain ``instance``."""
    times = [NOW - dt.timedelta(hours=h) for h in hours_ago]
    async with store.log(instance=instance, clock=clock_at(times)) as log:
        for n in range(len(times)):
            await log.append(event(n))


async def archive(store: Store, signer: Signer, out: Path, hours: int = 6) -> Any:
    return await archive_and_prune(
        store.url, signer, out, dt.timedelta(hours=hours), now=NOW, table=store.table
    )


async def rows(store: Store, query: str) -> list[Any]:
    engine = create_async_engine(store.url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.text(query.replace("$T", store.table)))).all())
    finally:
        await engine.dispose()


async def test_archive_prunes_old_events_of_every_chain_and_the_chains_still_verify(
    store: Store, signer: Signer, tmp_path: Path
):
    await write(store, "main", [30, 20, 10, 7, 5, 1])  # 4 older than 6 h
    await write(store, "worker-1", [9, 8, 2])  # 2 older
    result = await archive(store, signer, tmp_path / "archives")
    assert result.events == 6
    assert {(c.instance, c.first_seq, c.last_seq) for c in result.chains} == {
        ("main", 1, 4),
        ("worker-1", 1, 2),
    }
    assert sorted(await rows(store, "SELECT instance, seq FROM $T")) == [
        ("main", 5),
        ("main", 6),
        ("worker-1", 3),
    ]
    anchors = dict(await rows(store, "SELECT instance, seq FROM $T_anchors"))
    assert anchors == {"main": 4, "worker-1": 2}
    verified = await verify_chain(store.url, table=store.table)
    assert verified.ok and verified.checked == 3
    check = verify_archive(result.path, signer.jwks())
    assert check.ok, check.problems
    assert check.manifest["data"]["rows"] == 6


async def test_the_chain_continues_after_its_anchor_and_archives_link_up(
    store: Store, signer: Signer, tmp_path: Path
):
    await write(store, "main", [30, 20])
    first = await archive(store, signer, tmp_path)  # every event of the chain archived
    assert first.events == 2 and (await rows(store, "SELECT count(*) FROM $T"))[0][0] == 0
    await write(store, "main", [10, 1])  # a restarted writer continues after the anchor
    assert sorted(r[0] for r in await rows(store, "SELECT seq FROM $T")) == [3, 4]
    assert (await verify_chain(store.url, table=store.table)).ok
    second = await archive(store, signer, tmp_path)
    assert [(c.first_seq, c.last_seq) for c in second.chains] == [(3, 3)]
    assert second.chains[0].prev_hash == first.chains[0].last_hash  # archives chain up too
    assert verify_archive(second.path, signer.jwks()).ok
    assert (await verify_chain(store.url, table=store.table)).ok


async def test_pruning_stopped_between_pieces_leaves_a_verifying_chain(
    store: Store, signer: Signer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Each delete transaction takes a prefix and moves the anchor with it: a failure after
    the first leaves the chain verifiable, and the next run archives the rest, linked."""
    monkeypatch.setattr(audit_archive, "_PAGE", 1)
    monkeypatch.setattr(audit_archive, "PRUNE_PIECE", 2)
    await write(store, "main", [10, 9, 8, 7, 6])
    real, calls = audit_archive._prune, []

    async def fail_second(*args: Any) -> None:
        calls.append(args[3])
        if len(calls) == 2:
            raise AuditUnavailable("disk gone")
        await real(*args)

    monkeypatch.setattr(audit_archive, "_prune", fail_second)
    with pytest.raises(AuditUnavailable, match="disk gone"):
        await archive(store, signer, tmp_path, hours=1)
    assert [piece[:2] for piece in calls] == [(1, 2), (3, 4)]
    assert sorted(r[0] for r in await rows(store, "SELECT seq FROM $T")) == [3, 4, 5]
    assert (await verify_chain(store.url, table=store.table)).ok
    monkeypatch.setattr(audit_archive, "_prune", real)
    (first,) = [p for p in tmp_path.iterdir() if p.suffix == ".zip"]
    second = await archive(store, signer, tmp_path / "again", hours=1)
    assert [(c.first_seq, c.last_seq) for c in second.chains] == [(3, 5)]
    with zipfile.ZipFile(first) as zipped:
        written = [json.loads(line) for line in zipped.read(EVENTS_FILE).splitlines()]
    assert second.chains[0].prev_hash == written[1]["hash"]
    assert (await rows(store, "SELECT count(*) FROM $T"))[0][0] == 0


async def test_an_empty_range_is_a_no_op(store: Store, signer: Signer, tmp_path: Path):
    await write(store, "main", [2, 1])
    result = await archive(store, signer, tmp_path / "out")
    assert result.path is None and result.events == 0
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert len(await rows(store, "SELECT id FROM $T")) == 2
    assert await rows(store, "SELECT * FROM $T_anchors") == []


async def test_a_clock_step_back_keeps_the_live_part_one_chain(store: Store, signer: Signer, tmp_path: Path):
    await write(store, "main", [10, 2, 9, 8])  # seq 2 is young: only seq 1 can go
    result = await archive(store, signer, tmp_path)
    assert [(c.first_seq, c.last_seq) for c in result.chains] == [(1, 1)]
    assert (await verify_chain(store.url, table=store.table)).ok


async def test_a_broken_chain_is_not_archived_and_nothing_is_pruned(
    store: Store, signer: Signer, tmp_path: Path
):
    await write(store, "main", [10, 9, 8])
    await store.sql("UPDATE $T SET purpose = 'forged' WHERE seq = 2")
    with pytest.raises(AuditUnavailable, match=r"seq 2.*content changed"):
        await archive(store, signer, tmp_path)
    assert len(await rows(store, "SELECT id FROM $T")) == 3
    assert await rows(store, "SELECT * FROM $T_anchors") == []


async def test_a_gap_in_the_live_chain_is_not_archived(store: Store, signer: Signer, tmp_path: Path):
    await write(store, "main", [10, 9, 8])
    await store.sql("DELETE FROM $T WHERE seq = 2")
    with pytest.raises(AuditUnavailable, match="nothing was pruned"):
        await archive(store, signer, tmp_path)
    assert len(await rows(store, "SELECT id FROM $T")) == 2


async def test_the_archive_names_no_consumer_value_beyond_the_trail(
    store: Store, signer: Signer, tmp_path: Path
):
    """The archive holds exactly the events as `audit export` gives them: nothing added."""
    await write(store, "main", [10])
    async with store.log() as log:
        before = await log.events(limit=10)
    result = await archive(store, signer, tmp_path)
    with zipfile.ZipFile(result.path) as zipped:
        lines = zipped.read(EVENTS_FILE).decode().splitlines()
    assert [json.loads(line) for line in lines] == before


# --- offline verification of tampered archives -----------------------------------------


@pytest.fixture
async def written(store: Store, signer: Signer, tmp_path: Path) -> Path:
    await write(store, "main", [10, 9, 8])
    await write(store, "other", [7])
    return (await archive(store, signer, tmp_path / "a")).path


def rezip(path: Path, change: Callable[[str, bytes], bytes]) -> io.BytesIO:
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info)))
    out.seek(0)
    return out


def edit_line(number: int, edit: Callable[[dict[str, Any]], None]) -> Callable[[str, bytes], bytes]:
    def change(name: str, data: bytes) -> bytes:
        if name != EVENTS_FILE:
            return data
        lines = data.decode().splitlines()
        record = json.loads(lines[number])
        edit(record)
        lines[number] = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return ("\n".join(lines) + "\n").encode()

    return change


def resigned(signer: Signer, edit: Callable[[dict[str, Any]], None]) -> Callable[[str, bytes], bytes]:
    """The manifest edited and signed again with the gateway's own key (an insider): the
    events must still match it."""
    manifest: dict[str, Any] = {}

    def change(name: str, data: bytes) -> bytes:
        if name == MANIFEST:
            manifest.update(json.loads(data))
            edit(manifest)
            return json.dumps(manifest).encode()
        if name == SIGNATURE:
            return sign_manifest(signer, json.dumps(manifest).encode(), ARCHIVE_TYPE).encode()
        return data

    return change


def set_field(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda record: record.__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (edit_line(1, set_field("purpose", "forged")), "SHA-256"),  # data hash no longer the signed one
        (lambda name, data: data + b"x" if name == MANIFEST else data, "signature|manifest was changed"),
        (lambda name, data: b"" if name == EVENTS_FILE else data, "SHA-256|rows"),
    ],
    ids=["event-edited", "manifest-edited", "events-emptied"],
)
def test_a_tampered_archive_fails_offline_verification(
    written: Path, signer: Signer, change: Callable[[str, bytes], bytes], problem: str
):
    check = verify_archive(rezip(written, change), signer.jwks())
    assert not check.ok
    assert any(re.search(problem, p) for p in check.problems), check.problems


def test_an_insider_resigning_cannot_hide_an_edited_event(written: Path, signer: Signer):
    """Even with the key, an event edited and the manifest re-signed over the new data hash
    fails: every event's own hash and link are checked."""

    def both(name: str, data: bytes) -> bytes:
        return edit_line(1, set_field("purpose", "forged"))(name, data)

    edited = rezip(written, both)
    with zipfile.ZipFile(edited) as zipped:
        data = zipped.read(EVENTS_FILE)

    def fix(manifest: dict[str, Any]) -> None:
        manifest["data"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))

    forged = rezip(Path(_save(edited, written.with_suffix(".edited.zip"))), resigned(signer, fix))
    check = verify_archive(forged, signer.jwks())
    assert any("line 2" in p and "content changed" in p for p in check.problems), check.problems


def test_an_archive_verifies_only_against_its_gateways_keys(written: Path, tmp_path: Path):
    other = load_signer(tmp_path / "other")
    check = verify_archive(written, other.jwks())
    assert not check.ok and any("has no key" in p for p in check.problems)


def test_an_export_package_signature_is_not_an_archive_signature(written: Path, signer: Signer):
    def retyped(name: str, data: bytes) -> bytes:
        if name == SIGNATURE:
            with zipfile.ZipFile(written) as zipped:
                return sign_manifest(signer, zipped.read(MANIFEST), PACKAGE_TYPE).encode()
        return data

    check = verify_archive(rezip(written, retyped), signer.jwks())
    assert any("govshare-package+jws" in p for p in check.problems), check.problems


def _save(buffer: io.BytesIO, path: Path) -> Path:
    path.write_bytes(buffer.getvalue())
    return path


# --- arguments ----------------------------------------------------------------------------


@given(st.integers(1, 9_999), st.sampled_from("smhdw"))
def test_an_age_is_a_number_and_a_unit(number: int, unit: str):
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    assert parse_age(f"{number}{unit}") == dt.timedelta(seconds=number * seconds)


@pytest.mark.parametrize("text", ["", "6", "h", "0h", "-1d", "1.5h", "6 hours", "6H", "1y"])
def test_a_bad_age_is_refused_naming_the_flag(text: str):
    with pytest.raises(BadRequest, match="--older-than"):
        parse_age(text)


async def test_an_archive_folder_that_cannot_be_made_is_refused_naming_it(
    store: Store, signer: Signer, tmp_path: Path
):
    await write(store, "main", [9, 8])
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(AuditUnavailable, match=re.escape(str(tmp_path / "a-file"))):
        await archive(store, signer, tmp_path / "a-file" / "out")
    assert len(await rows(store, "SELECT id FROM $T")) == 2


async def test_a_disk_full_while_writing_leaves_no_draft_and_prunes_nothing(
    store: Store, signer: Signer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """ENOSPC cannot be caused on a test machine's disk: raised where the ZIP is written."""
    await write(store, "main", [9, 8])

    async def full(*args: Any) -> Any:
        raise OSError(28, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setattr(audit_archive, "_write_chain", full)
    with pytest.raises(AuditUnavailable, match="No space left"):
        await archive(store, signer, tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []
    assert len(await rows(store, "SELECT id FROM $T")) == 2
