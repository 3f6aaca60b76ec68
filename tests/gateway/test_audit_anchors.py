"""``audit verify --archives DIR`` (gateway.audit_anchors) on SQLite and PostgreSQL: every
chain's anchor must be explained by the signed archives in the folder; an insider who deletes
events and moves an anchor, a missing, swapped or tampered archive, a gap between archives
are each named (chain, archive file, what does not match)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from errors import AuditUnavailable, BadRequest
from gateway import audit_archive, cli
from gateway.audit import AuditLog
from gateway.audit_anchors import AnchorCheck, verify_anchors
from gateway.audit_archive import ARCHIVE_TYPE, EVENTS_FILE, archive_and_prune
from gateway.auth import Signer, load_signer
from gateway.package import MANIFEST, SIGNATURE, sign_manifest
from gateway.platform import default_url
from tests.gateway.test_audit import Store, event
from tests.gateway.test_audit_archive import NOW, archive, clock_at, rows, signer, store, write

__all__ = ["signer", "store"]  # the fixtures, shared with test_audit_archive


async def check(store: Store, signer: Signer, folder: Path) -> AnchorCheck:
    return await verify_anchors(store.url, folder, signer.jwks(), table=store.table)


def problem(result: AnchorCheck, *words: str) -> bool:
    return any(all(word in p for word in words) for p in result.problems)


async def two_archives(store: Store, signer: Signer, folder: Path) -> tuple[Any, Any]:
    """main seq 1..2 in the first archive, 3 in the second; other seq 1 in the first."""
    await write(store, "main", [30, 20])
    await write(store, "other", [25])
    first = await archive(store, signer, folder)
    await write(store, "main", [10, 1])
    return first, await archive(store, signer, folder)


async def test_archiving_twice_explains_every_anchor(store: Store, signer: Signer, tmp_path: Path):
    first, second = await two_archives(store, signer, tmp_path)
    result = await check(store, signer, tmp_path)
    assert result.ok, result.problems
    assert result.starts == {"main": 1, "other": 1} and result.archives == 2
    assert dict(await rows(store, "SELECT instance, archive FROM $T_anchors")) == {
        "main": second.path.name,
        "other": first.path.name,
    }


async def test_events_deleted_and_the_anchor_moved_forward_are_named(
    store: Store, signer: Signer, tmp_path: Path
):
    """The insider's move `audit verify` alone cannot see: the live chain still links."""
    await write(store, "main", [30, 20, 10, 1])
    await archive(store, signer, tmp_path, hours=15)  # seq 1..2 archived, anchor at 2
    (seq3_hash,) = (await rows(store, "SELECT hash FROM $T WHERE seq = 3"))[0]
    await store.sql("DELETE FROM $T WHERE seq = 3")
    await store.sql(f"UPDATE $T_anchors SET seq = 3, hash = '{seq3_hash}'")
    assert (await store.verify()).ok  # the gap this closes
    result = await check(store, signer, tmp_path)
    assert problem(result, "chain main", "seq 1..2 only", "deleted or the anchor was moved"), result.problems


async def test_a_missing_archive_is_named(store: Store, signer: Signer, tmp_path: Path):
    _, second = await two_archives(store, signer, tmp_path)
    second.path.unlink()
    result = await check(store, signer, tmp_path)
    assert problem(result, "chain main", second.path.name, "not in the archive folder"), result.problems
    assert not problem(result, "chain other")


async def test_a_swapped_archive_is_named(store: Store, signer: Signer, tmp_path: Path):
    """Another chain's archive, under the anchor's file name or named by a rewritten anchor."""
    await write(store, "main", [30])
    mains = await archive(store, signer, tmp_path / "a", hours=24)
    await write(store, "other", [20])
    others = await archive(store, signer, tmp_path / "a", hours=6)  # holds chain other only
    saved = mains.path.read_bytes()
    shutil.copy(others.path, mains.path)
    result = await check(store, signer, tmp_path / "a")
    assert problem(result, "chain main", mains.path.name, f"SHA-256 {others.sha256}"), result.problems
    mains.path.write_bytes(saved)
    await store.sql(
        f"UPDATE $T_anchors SET archive = '{others.path.name}', archive_sha256 = '{others.sha256}'"
        " WHERE instance = 'main'"
    )
    result = await check(store, signer, tmp_path / "a")
    assert problem(result, "chain main", others.path.name, "holds no event of this chain"), result.problems


async def test_a_tampered_archive_is_named_even_with_its_digest_updated(
    store: Store, signer: Signer, tmp_path: Path
):
    first, _ = await two_archives(store, signer, tmp_path)
    data = bytearray(first.path.read_bytes())
    data[len(data) // 3] ^= 0xFF
    first.path.write_bytes(bytes(data))
    result = await check(store, signer, tmp_path)
    assert problem(result, "chain other", first.path.name, "SHA-256"), result.problems
    forged = hashlib.sha256(bytes(data)).hexdigest()
    await store.sql(f"UPDATE $T_anchors SET archive_sha256 = '{forged}' WHERE instance = 'other'")
    result = await check(store, signer, tmp_path)
    assert problem(result, "chain other", first.path.name, "does not verify"), result.problems
    assert problem(result, f"archive {first.path.name} does not verify")


async def test_a_gap_between_archives_is_named(store: Store, signer: Signer, tmp_path: Path):
    await write(store, "main", [30, 20, 10, 5, 4])
    await archive(store, signer, tmp_path, hours=25)  # seq 1
    middle = await archive(store, signer, tmp_path, hours=15)  # seq 2
    last = await archive(store, signer, tmp_path, hours=3)  # seq 3..5
    assert (await check(store, signer, tmp_path)).ok
    middle.path.unlink()
    result = await check(store, signer, tmp_path)
    assert problem(result, "chain main", last.path.name, "seq 2..2 is in no archive"), result.problems


async def test_removed_oldest_archives_leave_a_declared_start(store: Store, signer: Signer, tmp_path: Path):
    await write(store, "main", [30, 20])
    oldest = await archive(store, signer, tmp_path, hours=25)
    await archive(store, signer, tmp_path, hours=15)
    oldest.path.unlink()  # past its retention
    result = await check(store, signer, tmp_path)
    assert result.ok and result.starts == {"main": 2}, result.problems


async def test_an_archive_again_after_a_stopped_prune_overlaps_identically(
    store: Store, signer: Signer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(audit_archive, "_PAGE", 1)
    monkeypatch.setattr(audit_archive, "PRUNE_PIECE", 2)
    await write(store, "main", [10, 9, 8, 7])
    real = audit_archive._prune

    async def stop_second(*args: Any) -> None:
        if args[3][0] == 3:
            raise AuditUnavailable("stopped")
        await real(*args)

    monkeypatch.setattr(audit_archive, "_prune", stop_second)
    with pytest.raises(AuditUnavailable):
        await archive(store, signer, tmp_path, hours=1)
    assert (await check(store, signer, tmp_path)).ok  # anchor at seq 2, inside the archive
    monkeypatch.setattr(audit_archive, "_prune", real)
    await archive(store, signer, tmp_path, hours=1)  # seq 3..4 again
    result = await check(store, signer, tmp_path)
    assert result.ok and result.starts == {"main": 1}, result.problems


async def test_an_archived_chain_whose_anchor_was_deleted_is_named(
    store: Store, signer: Signer, tmp_path: Path
):
    await write(store, "main", [30])
    result = await archive(store, signer, tmp_path)
    await store.sql("DELETE FROM $T_anchors")
    assert (await store.verify()).ok
    found = await check(store, signer, tmp_path)
    assert problem(found, "chain main", result.path.name, "no anchor"), found.problems


async def test_archives_signed_by_another_key_are_named(store: Store, signer: Signer, tmp_path: Path):
    await write(store, "main", [30])
    await archive(store, signer, tmp_path)
    other = load_signer(tmp_path / "other-keys")
    found = await verify_anchors(store.url, tmp_path, other.jwks(), table=store.table)
    assert problem(found, "chain main", "does not verify"), found.problems


async def test_a_folder_that_is_not_one_is_refused(store: Store, signer: Signer, tmp_path: Path):
    with pytest.raises(BadRequest, match="--archives"):
        await check(store, signer, tmp_path / "missing")


# --- command line (SQLite, the default table) ---------------------------------------------


async def one_archived(data: Path, folder: Path) -> Any:
    """Two events on the gateway's own store, the older archived into ``folder``."""
    data.mkdir()
    url = default_url(str(data))
    times = [NOW - dt.timedelta(hours=h) for h in (30, 1)]
    async with AuditLog(url, clock=clock_at(times)) as log:
        for n in range(2):
            await log.append(event(n))
    return await archive_and_prune(url, load_signer(data), folder, dt.timedelta(hours=6), now=NOW)


def test_cli_verify_with_and_without_archives(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = tmp_path / "data"
    archived = asyncio.run(one_archived(data, tmp_path / "arch"))

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main(["audit", "verify", *args, "--data", str(data)])
        return (code, *capsys.readouterr())

    code, out, _ = run()
    assert (code, out) == (0, "ok: 1 events verified; 1 chains start at anchors not checked against "
                              "archives (give --archives DIR)\n")  # fmt: skip
    code, out, _ = run("--archives", str(tmp_path / "arch"))
    assert code == 0 and "1 chains start at anchors explained by 1 archives" in out
    assert run("--archives", str(tmp_path / "nowhere"))[0] == 2
    assert run("--archives", str(tmp_path / "arch"), "--jwks", str(tmp_path / "none.json"))[0] == 2
    archived.path.unlink()
    code, out, err = run("--archives", str(tmp_path / "arch"))
    assert code == 1 and out == ""
    assert "chain main" in err and archived.path.name in err and "Traceback" not in err


# --- hostile archives against verify-archive: bounded reads, a named problem ---------------


def hostile(written: Path, signer: Signer, kind: str) -> Path:
    """``written`` rebuilt as an attacker would: a compression bomb for events.ndjson (the
    manifest vouches for far fewer bytes), a second events.ndjson, or a 3 MiB line re-signed
    by an insider (data hash and size updated)."""
    with zipfile.ZipFile(written) as source:
        members = {name: source.read(name) for name in source.namelist()}
    out, extra = written.with_name(f"{kind}.zip"), []
    if kind == "bomb":
        members[EVENTS_FILE] = bytes(64 << 20)  # 64 MiB of zeros, deflated to ~64 kB
    elif kind == "duplicate":
        extra.append((EVENTS_FILE, members[EVENTS_FILE].replace(b"event-", b"forged")))
    else:
        members[EVENTS_FILE] = b"x" * (3 << 20) + b"\n" + members[EVENTS_FILE]
        manifest = json.loads(members[MANIFEST])
        data = members[EVENTS_FILE]
        manifest["data"].update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data), rows=2)
        members[MANIFEST] = json.dumps(manifest).encode()
        members[SIGNATURE] = sign_manifest(signer, members[MANIFEST], ARCHIVE_TYPE).encode()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in [*members.items(), *extra]:
            if name == EVENTS_FILE and extra:
                with warnings.catch_warnings():  # zipfile warns of the duplicate it is told to write
                    warnings.simplefilter("ignore")
                    target.writestr(name, data)
            else:
                target.writestr(name, data)
    return out


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("bomb", "compression bomb"),
        ("duplicate", "copies of 'events.ndjson'"),
        ("huge-line", "line 1: longer than"),
    ],
)
def test_a_hostile_archive_is_refused_with_a_named_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, said: str
):
    data = tmp_path / "data"
    archived = asyncio.run(one_archived(data, tmp_path / "arch"))
    path = hostile(archived.path, load_signer(data), kind)
    capsys.readouterr()
    code = cli.main(["audit", "verify-archive", str(path), "--data", str(data)])
    _, err = capsys.readouterr()
    assert code == 1 and said in err and "Traceback" not in err, err
