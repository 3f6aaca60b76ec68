"""``govshare backup`` and the data folder it copies (found by a fresh reviewer, stop 17). Fast:
no server."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from errors import BackupRefused
from gateway import backup
from gateway.settings import Settings


def _settings(data: Path) -> Settings:
    return Settings.load(data=str(data), database_url=f"sqlite+aiosqlite:///{data / 'platform.db'}")


def test_a_backup_inside_the_data_folder_is_refused_naming_it(tmp_path: Path) -> None:
    """`govshare backup $GOVSHARE_DATA/backups/$(date ...)` from cron: each backup copied the
    folder it was writing (a half-written platform.db of itself) and every earlier backup,
    keys included, so each run doubled (measured: 12 MB, then 24 MB) until the disk filled.
    Such a folder is refused, naming it, and nothing is written there."""
    data = tmp_path / "data"
    data.mkdir()
    sqlite3.connect(data / "platform.db").close()
    (data / "keys.json").write_text("{}\n")
    out = data / "backups" / "b1"
    with pytest.raises(BackupRefused, match="inside the data folder") as refused:
        asyncio.run(backup.backup(_settings(data), out))
    assert str(out) in str(refused.value)
    assert not out.exists()


@pytest.mark.parametrize("name", ["workers/vm-0.lock", "platform.db.write-turn"])
def test_a_backup_leaves_out_the_running_workers_state(tmp_path: Path, name: str) -> None:
    """Slot locks and the SQLite write-turn lock file are the running processes' state, not
    the platform's (README: not logs, -wal/-shm ...): a restore should not carry them."""
    data = tmp_path / "data"
    (data / "workers").mkdir(parents=True)
    sqlite3.connect(data / "platform.db").close()
    (data / name).write_text("")
    manifest = asyncio.run(backup.backup(_settings(data), tmp_path / "b"))
    assert f"data/{name}" not in [entry["path"] for entry in manifest["files"]]
