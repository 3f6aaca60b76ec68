"""A hostile backup folder (crafted by whoever can write where backups are kept): the
manifest is not signed, so restore must not trust its names. Every file lands inside the
target data folder or the whole backup is refused before anything is written; a restore
with --force never writes through a symlink it finds in the target. Fast: no server, a
SQLite platform database made here."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from errors import BackupRefused
from gateway import backup
from gateway.settings import Settings


def _make_backup(folder: Path, files: dict[str, bytes], names: list[str] | None = None) -> Path:
    """A backup folder holding ``files`` whose manifest names ``names`` (default: the files),
    written the way gateway.backup writes it (so only the names are hostile)."""
    folder.mkdir()
    sqlite3.connect(folder / backup.SQLITE_FILE).close()
    (folder / backup.SETTINGS_FILE).write_text("{}\n")
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    listed = [backup.SQLITE_FILE, backup.SETTINGS_FILE, *(names if names is not None else files)]
    entries = [backup._entry(folder, name, "data") for name in listed]
    manifest = {"format": backup.FORMAT, "created": "2026-11-30T00:00:00Z", "backend": "sqlite",
                "databaseTool": "test", "alembicRevision": None, "catalog": {}, "files": entries}  # fmt: skip
    backup._write_manifest(folder, manifest)
    return folder


def _restore(source: Path, data: Path, force: bool = False) -> None:
    settings = Settings.load(data=str(data), database_url=f"sqlite+aiosqlite:///{data / 'platform.db'}")
    asyncio.run(backup.restore(source, settings, force=force))


HOSTILE = {
    # the manifest names the file under two spellings; the second is absolute once "data/"
    # is taken off, so restore would write <outside>/planted
    "double-slash-absolute": lambda out: [f"data{out}/planted", f"data/{out}/planted"],
    "dot-segment": lambda out: ["data/x/planted", "data/./x/planted"],
    "empty-segment": lambda out: ["data/x/planted", "data/x//planted"],
    "not-data-or-catalog": lambda out: ["x/planted"],
}


@pytest.mark.parametrize("names", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_manifest_name_that_is_not_a_plain_relative_path_is_refused(
    tmp_path: Path, names: Callable[[Path], list[str]]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    listed = names(outside)
    files = {str(Path(name)): b"planted\n" for name in listed}  # every spelling's file exists
    source = _make_backup(tmp_path / "b", files, listed)
    with pytest.raises(BackupRefused, match="names a file"):
        backup.check_backup(source)
    with pytest.raises(BackupRefused):
        _restore(source, tmp_path / "target")
    assert not (outside / "planted").exists()
    assert not (tmp_path / "target").exists()


def test_a_duplicate_manifest_name_is_refused(tmp_path: Path) -> None:
    source = _make_backup(tmp_path / "b", {"data/a": b"a"}, ["data/a", "data/a"])
    with pytest.raises(BackupRefused, match=re.escape("twice")):
        backup.check_backup(source)


def test_a_symlink_in_the_backup_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the host's secret\n")
    source = _make_backup(tmp_path / "b", {"data/a": b"a"})
    (source / "data" / "a").unlink()
    (source / "data" / "a").symlink_to(secret)
    os.utime(source / "data" / "a", follow_symlinks=False)
    _refused_though_its_manifest_matches(source)


def _refused_though_its_manifest_matches(source: Path) -> None:
    """A manifest whose sums match the files as read through a planted link: only the
    link check can refuse the backup."""
    entries = [backup._entry(source, n, "data") for n in (backup.SQLITE_FILE, backup.SETTINGS_FILE, "data/a")]
    (source / backup.MANIFEST).unlink()
    manifest = {"format": backup.FORMAT, "created": "x", "backend": "sqlite", "databaseTool": "t",
                "alembicRevision": None, "catalog": {}, "files": entries}  # fmt: skip
    backup._write_manifest(source, manifest)
    with pytest.raises(BackupRefused, match="symbolic link"):
        backup.check_backup(source)


def test_a_symlinked_folder_in_the_backup_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a").write_bytes(b"a")
    source = _make_backup(tmp_path / "b", {}, [])
    (source / "data").symlink_to(elsewhere, target_is_directory=True)
    _refused_though_its_manifest_matches(source)


def test_a_forced_restore_never_writes_through_a_symlink_in_the_target(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("not the backup's to change\n")
    source = _make_backup(tmp_path / "b", {"data/keys.json": b'{"keys": []}\n', "data/sub/f": b"f\n"})
    target = tmp_path / "target"
    target.mkdir()
    (target / "keys.json").symlink_to(victim)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (target / "sub").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(BackupRefused, match="symbolic link"):
        _restore(source, target, force=True)
    assert victim.read_text() == "not the backup's to change\n"
    assert not (elsewhere / "f").exists()


def test_a_backup_folder_that_cannot_be_made_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    data = tmp_path / "data"
    data.mkdir()
    sqlite3.connect(data / "platform.db").close()
    settings = Settings.load(data=str(data), database_url=f"sqlite+aiosqlite:///{data / 'platform.db'}")
    with pytest.raises(BackupRefused, match=re.escape(str(tmp_path / "a-file"))):
        asyncio.run(backup.backup(settings, tmp_path / "a-file" / "backup"))


def test_a_restore_target_that_cannot_be_made_is_refused_naming_it(tmp_path: Path) -> None:
    source = _make_backup(tmp_path / "b", {"data/a": b"a"})
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(BackupRefused, match=re.escape(str(tmp_path / "a-file"))):
        _restore(source, tmp_path / "a-file" / "data")


@pytest.mark.parametrize(
    "variable",
    ["GOVSHARE_REDIS_URL", "GOVSHARE_CACHE_URL", "GOVSHARE_DATABASE_URL"],
)
def test_settings_json_holds_no_url_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    """Every URL the settings carry, those added after backup was written too (the workers'
    shared Redis), is written with its password as ***."""
    urls = {"GOVSHARE_REDIS_URL": "redis://:s3cr3t-pw@127.0.0.1:1/0",
            "GOVSHARE_CACHE_URL": "redis://user:s3cr3t-pw@127.0.0.1:1/0",
            "GOVSHARE_DATABASE_URL": "postgresql+asyncpg://u:s3cr3t-pw@127.0.0.1:1/db"}  # fmt: skip
    monkeypatch.setenv(variable, urls[variable])
    written = json.dumps(backup.public_settings(Settings.load(data=str(tmp_path))))
    assert "s3cr3t-pw" not in written and "***" in written
