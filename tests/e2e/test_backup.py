"""Backup and restore, audit archive and prune, end to end on SQLite and PostgreSQL: a real
``govshare demo`` gateway keeps answering while ``govshare backup`` runs; the backup restores
into a fresh data folder (and, on PostgreSQL, a fresh database) where ``audit verify`` passes,
the data is the same and a gateway serving it accepts the old tokens; tampered or partial
backups and non-empty targets are refused naming the file or flag; archive + prune while
serving leaves chains that verify; bad arguments exit 2 naming the flag."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from errors import BackupRefused
from gateway import backup, cli, dbschema
from gateway.demo import SAMPLE_ORGANIZATION_QUERY
from tests.conftest import DEMO_PURPOSE, _healthy, _wait_ready, postgres_url_or_skip

SNAPSHOT_TABLES = ("grants", "audit_events")


@dataclass
class Platform:
    """A served demo data folder on one backend, and how to run the CLI against it."""

    backend: str
    data_dir: Path
    info: dict[str, Any]
    database_url: str | None  # PostgreSQL: its own database; SQLite: DATA/platform.db
    made: list[str] = field(default_factory=list)  # PostgreSQL databases to drop

    def env(self, database_url: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "GOVSHARE_DATABASE_URL"}
        env["GOVSHARE_CHANGE_POLL_SECONDS"] = "0"
        url = database_url or self.database_url
        if url:
            env["GOVSHARE_DATABASE_URL"] = url
        return env

    def cli(
        self, *args: str, data: Path | None = None, database_url: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gateway.cli", *args, "--data", str(data or self.data_dir)]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=120, env=self.env(database_url)
        )

    def query(self) -> httpx.Response:
        code = self.info["samples"]["organizations"][0]
        token = self.info["tokens"]["consumer_with_grant"]
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(DEMO_PURPOSE),
                   "Accept": "application/graphql-response+json", "X-Voucher": "off"}  # fmt: skip
        body = {"query": SAMPLE_ORGANIZATION_QUERY, "variables": {"code": code}}
        return httpx.post(self.info["url"], json=body, headers=headers, timeout=30)

    def new_database(self) -> str | None:
        """A fresh empty database on the same PostgreSQL (None on SQLite)."""
        if self.backend != "postgresql":
            return None
        url = _database_named(postgres_url_or_skip(), f"bk_{uuid.uuid4().hex[:10]}")
        asyncio.run(_admin(postgres_url_or_skip(), f'CREATE DATABASE "{make_url(url).database}"'))
        self.made.append(url)
        return url


def _database_named(base: str, suffix: str) -> str:
    parsed = make_url(base)
    return parsed.set(database=f"{parsed.database}_{suffix}").render_as_string(hide_password=False)


async def _admin(base: str, statement: str) -> None:
    engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    data_dir = tmp_path_factory.mktemp(f"backup-{request.param}")
    made = Platform(request.param, data_dir, {}, None)
    made.database_url = made.new_database()
    command = [sys.executable, "-m", "gateway.cli", "demo", "--data", str(data_dir), "--port", "0",
               "--organizations", "30", "--persons", "10"]  # fmt: skip
    log = (data_dir.parent / f"{data_dir.name}.log").open("w")  # not in the data folder: not backed up
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True, env=made.env())
    try:
        made.info = _wait_ready(data_dir, process)
        yield made
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()
        for url in made.made:
            name = make_url(url).database
            asyncio.run(_admin(postgres_url_or_skip(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Load:
    """Threads sending the sample query until stopped; counts the answers (all must be 200)."""

    def __init__(self, platform: Platform, threads: int = 4) -> None:
        self.platform, self.stop, self.answered, self.failed = platform, threading.Event(), 0, []
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        while not self.stop.is_set():
            response = self.platform.query()
            if response.status_code == 200 and "errors" not in response.json():
                self.answered += 1
            else:
                self.failed.append(response.text)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def wait_for(self, answers: int) -> None:
        deadline = time.monotonic() + 60
        while self.answered < answers:
            assert not self.failed, self.failed[:1]
            assert time.monotonic() < deadline, f"only {self.answered} answers in 60 s"
            time.sleep(0.05)

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


@pytest.fixture(scope="module")
def backed_up(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backup taken while four clients keep querying (each answer is an audit event)."""
    out = tmp_path_factory.mktemp("backups") / platform.backend
    with Load(platform) as load:
        load.wait_for(20)
        before = load.answered
        result = platform.cli("backup", str(out))
        during = load.answered - before
    assert result.returncode == 0, result.stderr
    assert during > 0, "no request was answered while the backup ran"
    assert not load.failed, load.failed[:1]
    return out


def snapshot(backend: str, url: str | None, data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the compared tables, in a stable order."""
    target = url or f"sqlite+aiosqlite:///{data_dir}/platform.db"

    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_async_engine(target)
        try:
            async with engine.connect() as conn:
                found = {t: await conn.execute(sa.text(f"SELECT * FROM {t}")) for t in SNAPSHOT_TABLES}
                return {t: sorted(tuple(map(str, row)) for row in rows) for t, rows in found.items()}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_backup_taken_under_load_restores_the_same_platform(
    platform: Platform, backed_up: Path, tmp_path: Path
):
    target, database = tmp_path / "restored", platform.new_database()
    restored = platform.cli("restore", str(backed_up), data=target, database_url=database)
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["auditEventsVerified"] > 20
    verified = platform.cli("audit", "verify", data=target, database_url=database)
    assert verified.returncode == 0 and verified.stdout.startswith("ok:"), verified.stderr
    for name in ("keys.json", "audit-secret", "catalog.yaml"):
        assert (target / name).read_bytes() == (platform.data_dir / name).read_bytes()
    assert (target / "keys.json").stat().st_mode & 0o077 == 0
    back, live = (
        snapshot(platform.backend, database, target),
        snapshot(platform.backend, platform.database_url, platform.data_dir),
    )
    assert back["grants"] == live["grants"]
    assert set(back["audit_events"]) <= set(live["audit_events"])  # the live trail went on after
    assert len(back["audit_events"]) > 20


def test_a_gateway_on_the_restored_folder_accepts_the_old_tokens(
    platform: Platform, backed_up: Path, tmp_path: Path
):
    target, database = tmp_path / "restored", platform.new_database()
    assert platform.cli("restore", str(backed_up), data=target, database_url=database).returncode == 0
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(target), "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=platform.env(database))  # fmt: skip
    try:
        line = _first_line(process)
        url = re.search(r"http://\S+/graphql", line)
        assert url, line
        served = Platform(platform.backend, target, {**platform.info, "url": url[0]}, database)
        deadline = time.monotonic() + 60  # the URL is printed before the gateway listens
        while not _healthy(url[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        answer = served.query()
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"] == platform.query().json()["data"]
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout:
            process.stdout.close()
    assert platform.cli("audit", "verify", data=target, database_url=database).returncode == 0


def _first_line(process: subprocess.Popen[str]) -> str:
    """The first line a child prints, or "" after 60 s (read in a thread: readline blocks)."""
    lines: list[str] = []
    stream = process.stdout
    reader = threading.Thread(target=lambda: lines.append(stream.readline() if stream else ""))
    reader.start()
    reader.join(60)
    return lines[0] if lines else ""


def copy_of(backed_up: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(backed_up, tmp_path / "copy"))


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda b: (b / "data" / "keys.json").write_text('{"keys": []}'), "keys.json"),
        (lambda b: (b / "data" / "audit-secret").write_text("0" * 64 + "\n"), "audit-secret"),
        (lambda b: (b / "backup.json").unlink(), "backup.json is missing"),
        (lambda b: (b / "settings.json").unlink(), "settings.json is missing"),
        (lambda b: (b / "data" / "extra.txt").write_text("planted"), "extra.txt is not named"),
    ],
    ids=["key-changed", "secret-changed", "no-manifest", "file-missing", "file-added"],
)
def test_a_tampered_or_partial_backup_is_refused_naming_the_file(
    platform: Platform, backed_up: Path, tmp_path: Path, damage: Any, named: str
):
    """Checked in process (the command's exit 2 and message are tested below)."""
    broken = copy_of(backed_up, tmp_path)
    damage(broken)
    with pytest.raises(BackupRefused, match=re.escape(named)):
        backup.check_backup(broken)


def test_a_changed_database_file_is_refused(platform: Platform, backed_up: Path, tmp_path: Path):
    broken = copy_of(backed_up, tmp_path)
    database = broken / ("platform.db" if platform.backend == "sqlite" else "platform.dump")
    raw = bytearray(database.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    database.write_bytes(bytes(raw))
    result = platform.cli("restore", str(broken), data=tmp_path / "t", database_url=platform.new_database())
    assert result.returncode == 2 and database.name in result.stderr and "SHA-256" in result.stderr


def test_a_non_empty_target_is_refused_unless_forced(platform: Platform, backed_up: Path, tmp_path: Path):
    target, database = tmp_path / "busy", platform.new_database()
    target.mkdir()
    (target / "notes.txt").write_text("an operator's file")
    refused = platform.cli("restore", str(backed_up), data=target, database_url=database)
    assert refused.returncode == 2 and "--force" in refused.stderr
    forced = platform.cli("restore", str(backed_up), "--force", data=target, database_url=database)
    assert forced.returncode == 0, forced.stderr
    if platform.backend == "postgresql":  # the database now holds tables: a second restore is refused
        again = platform.cli("restore", str(backed_up), data=tmp_path / "other", database_url=database)
        assert again.returncode == 2 and "--force" in again.stderr and "tables" in again.stderr


def test_archive_and_prune_while_serving_then_the_chains_verify(platform: Platform, tmp_path: Path):
    with Load(platform, threads=2) as load:
        load.wait_for(10)
        time.sleep(1.1)  # the events so far are older than 1 s
        archived = platform.cli("audit", "archive", "--older-than", "1s", str(tmp_path / "archives"))
    assert archived.returncode == 0, archived.stderr
    summary = json.loads(archived.stdout)
    assert summary["events"] >= 10 and summary["archive"]
    assert not load.failed, load.failed[:1]
    assert platform.query().status_code == 200  # the gateway keeps its chain going
    verified = platform.cli("audit", "verify")
    assert verified.returncode == 0, verified.stderr
    jwks = tmp_path / "jwks.json"  # offline: the keys as published, no data folder
    jwks.write_text(
        httpx.get(platform.info["url"].replace("/graphql", "/.well-known/voucher-keys.json")).text
    )
    offline = platform.cli(
        "audit", "verify-archive", summary["archive"], "--jwks", str(jwks), data=tmp_path / "none"
    )
    assert offline.returncode == 0, offline.stderr
    assert json.loads(offline.stdout)["events"] == summary["events"]
    empty = platform.cli("audit", "archive", "--older-than", "52w", str(tmp_path / "nothing"))
    assert empty.returncode == 0 and json.loads(empty.stdout)["archive"] is None


def test_a_tampered_archive_fails_verify_archive(platform: Platform, tmp_path: Path):
    time.sleep(1.1)
    archived = json.loads(platform.cli("audit", "archive", "--older-than", "1s", str(tmp_path)).stdout)
    path = Path(archived["archive"])
    raw = bytearray(path.read_bytes())
    raw[40] ^= 0x01  # inside the deflated events
    path.write_bytes(bytes(raw))
    result = platform.cli("audit", "verify-archive", str(path))
    assert result.returncode == 1 and "audit archive refused" in result.stderr


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["backup"], "DIR"),
        (["restore"], "DIR"),
        (["audit", "archive", "out"], "--older-than"),
        (["audit", "archive", "--older-than", "5x", "out"], "--older-than"),
        (["audit", "archive", "--older-than", "0d", "out"], "--older-than"),
        (["audit", "verify-archive"], "FILE"),
    ],
)
def test_bad_arguments_exit_2_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], flag: str
):
    """Refused before any data folder or database is opened: once, not per backend, in process."""
    try:
        code = cli.main([*args, "--data", str(tmp_path)])
    except SystemExit as exit_:  # argparse's own refusals
        code = int(exit_.code or 0)
    assert code == 2
    assert flag in capsys.readouterr().err


def test_a_backup_into_a_non_empty_folder_is_refused(platform: Platform, tmp_path: Path):
    (tmp_path / "old.txt").write_text("x")
    result = platform.cli("backup", str(tmp_path))
    assert result.returncode == 2 and "not an empty folder" in result.stderr


def test_the_backup_manifest_names_every_file_with_its_checksum(platform: Platform, backed_up: Path):
    manifest = json.loads((backed_up / "backup.json").read_text())
    assert manifest["backend"] == platform.backend
    roles = {entry["path"]: entry["role"] for entry in manifest["files"]}
    assert roles["data/keys.json"] == "keys" and roles["data/audit-secret"] == "secret"
    assert "database" in roles.values() and roles["settings.json"] == "settings"
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=backed_up, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout
    settings = (backed_up / "settings.json").read_text()
    assert "password" not in settings.lower() or "***" in settings
    assert backed_up.stat().st_mode & 0o077 == 0


def test_a_backup_of_an_older_revision_is_upgraded_on_restore(
    platform: Platform, backed_up: Path, tmp_path: Path
):
    """A backup taken at revision 0002 (before the anchor table: its database lacks it and is
    stamped 0002, its manifest agrees) restores, is upgraded to the head, and verifies."""
    if platform.backend != "sqlite":
        pytest.skip("the upgrade step is the same code on both backends; SQLite lets the test edit the file")
    manifest = json.loads((backed_up / "backup.json").read_text())
    assert manifest["alembicRevision"] == dbschema.head()
    old = copy_of(backed_up, tmp_path)
    with sqlite3.connect(old / "platform.db") as conn:
        conn.execute("DROP TABLE audit_events_anchors")
        for later in ("catalog_entries", "catalog_events", "catalog_meta"):  # revision 0004
            conn.execute(f"DROP TABLE {later}")
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    conn.close()
    manifest["files"] = [backup._entry(old, e["path"], e["role"]) for e in manifest["files"]]
    manifest["alembicRevision"] = "0002"
    (old / "backup.json").write_text(json.dumps(manifest))
    target = tmp_path / "t"
    restored = platform.cli("restore", str(old), data=target)
    assert restored.returncode == 0, restored.stderr
    summary = json.loads(restored.stdout)
    assert (summary["alembicRevision"], summary["upgradedTo"]) == ("0002", dbschema.head())
    with sqlite3.connect(target / "platform.db") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert "audit_events_anchors" in tables
