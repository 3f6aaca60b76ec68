"""``govshare backup DIR`` and ``govshare restore DIR``: the platform's state, taken online
while the gateway serves, brought back into a fresh data folder (Zhengzhou art. 27 容灾备份;
Zhejiang art. 33 备份灾难恢复机制 and its drills; Sanya art. 22 备份恢复机制).

A backup folder holds:

- ``platform.db`` (SQLite) or ``platform.dump`` (PostgreSQL) -- the platform database:
  grants, applications, clients (secrets hashed), the audit chains and anchors. SQLite: the
  sqlite3 online backup API (``Connection.backup``, all pages in one step, so one read
  transaction: a consistent snapshot while the gateway keeps writing in WAL mode), run in a
  thread, off the event loop. PostgreSQL: ``pg_dump --format=custom``, which reads in one
  REPEATABLE READ snapshot while the gateway keeps serving; restored with ``pg_restore``.
- ``data/``: the data folder's own files: ``keys.json`` (the signing keys, private),
  ``retired-keys.json``, ``audit-secret`` (the HMAC key of response digests), the catalog
  when it lives there, and every other file, sub-folders included (the demo's department
  databases; SQLite files are copied with the backup API too). Not taken: the platform
  database's own files (above), ``*.log``, ``*.tmp``, ``*-wal``/``*-shm``, dot-files
  (drafts), ``reports/`` (output, made again) and the running processes' own files
  (``workers/`` slot locks, ``*.write-turn``). A backup folder inside the data folder is
  refused: each backup would copy itself and the earlier ones.
- ``catalog/``: the catalog when it lives outside the data folder.
- ``settings.json``: the effective non-secret settings, for the record; restore does not
  apply them (the target's environment decides). Passwords in URLs are written as ``***``.
- ``backup.json``: the manifest (format, created, backend, the database tool, the Alembic
  revision when the database has one, every file with its bytes and SHA-256), written
  LAST, so a backup cut short has none and is refused; ``SHA256SUMS`` (``sha256sum -c``).

Secrets: the private signing keys and the audit secret are in the backup by necessity (a
restored gateway must sign with the keys consumers trust and check old digests); the folder
is made 0700 and the key files 0600. Keep backups as the keys themselves are kept. Database
passwords are never written.

Restore checks the manifest first (a file missing, changed or not named by it refuses the
whole backup, naming the file), refuses a non-empty data folder or a database with tables
unless ``--force``, copies the files, loads the database, upgrades it to this version's
Alembic head (gateway.dbschema: a backup of an older version restores too) and walks the
audit chains (``verify_chain``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeGuard

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from errors import BackupRefused, ConfigurationError
from gateway.audit_archive import fsync_folder, sha256_file
from gateway.dbschema import shown_url
from gateway.settings import Settings

FORMAT: Final = "govshare-backup/1"
MANIFEST: Final = "backup.json"
SUMS: Final = "SHA256SUMS"
SETTINGS_FILE: Final = "settings.json"
SQLITE_FILE: Final = "platform.db"
DUMP_FILE: Final = "platform.dump"
_SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_SKIPPED_SUFFIXES: Final = (".log", ".tmp", ".partial", "-wal", "-shm", "-journal", ".write-turn")
_SKIPPED_FOLDERS: Final = ("reports", "workers")  # output made again; the running workers' slot locks
_PRIVATE: Final = frozenset({"keys.json", "audit-secret"})
_PG_DIRS: Final = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/opt/homebrew/opt/postgresql@*/bin")


@dataclass(frozen=True)
class Restored:
    """What ``restore`` did: the data folder and database restored into, the files copied,
    the Alembic revision of the backup and the one after the upgrade, and the audit events
    the chains hold (verified)."""

    data_dir: Path
    database: str
    files: int
    revision: str | None
    upgraded_to: str | None
    audit_events: int


# --- backup -----------------------------------------------------------------------------


async def backup(settings: Settings, out: Path) -> dict[str, Any]:
    """Write a backup of ``settings``' platform into the new or empty folder ``out``; the
    manifest (as written to backup.json). Raises BackupRefused (``out`` not empty or not
    writable, disk full, pg_dump missing or failing), ConfigurationError (no platform database)."""
    try:
        return await _backup(settings, out)
    except OSError as exc:
        raise BackupRefused(f"backup into {out} failed: {_os_problem(exc)}") from exc


def _os_problem(exc: OSError) -> str:
    """An OSError as one line naming the file (no traceback for a full disk or a bad folder)."""
    return f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc)


async def _backup(settings: Settings, out: Path) -> dict[str, Any]:
    _outside_the_data(out, settings.data_dir)
    _new_folder(out, "DIR")
    backend = make_url(settings.database_url).get_backend_name()
    files: list[dict[str, Any]] = []
    if backend == "sqlite":
        await asyncio.to_thread(sqlite_copy, _sqlite_path(settings.database_url), out / SQLITE_FILE)
        files.append(_entry(out, SQLITE_FILE, "database"))
        tool = f"sqlite3 backup API (SQLite {sqlite3.sqlite_version})"
    elif backend == "postgresql":
        tool = await pg_dump(settings.database_url, out / DUMP_FILE)
        files.append(_entry(out, DUMP_FILE, "database"))
    else:
        raise BackupRefused(f"the platform database is {backend}: backup knows SQLite and PostgreSQL")
    files += await asyncio.to_thread(_copy_data_folder, settings, out)
    (out / SETTINGS_FILE).write_text(
        json.dumps(public_settings(settings), ensure_ascii=False, indent=2) + "\n"
    )
    files.append(_entry(out, SETTINGS_FILE, "settings"))
    manifest = {"format": FORMAT, "created": _now(), "backend": backend, "databaseTool": tool,
                "alembicRevision": await alembic_revision(settings.database_url),
                "catalog": _catalog_place(settings), "files": files}  # fmt: skip
    _write_manifest(out, manifest)
    return manifest


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (the online backup API, every page in one
    step: one read transaction), as a single file (rollback journal, no -wal beside it).
    Blocking: call in a thread."""
    if not source.is_file():
        raise ConfigurationError(
            f"no SQLite database at {source}: pass --data DIR (or GOVSHARE_DATABASE_URL)"
        )
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: every page in one step
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        src.close()
        dst.close()
    _fsync(target)


async def pg_dump(url: str, target: Path) -> str:
    """``pg_dump --format=custom`` of the database at ``url`` into ``target`` (one snapshot);
    the tool and its version. Raises BackupRefused when pg_dump is missing or fails."""
    tool = find_pg_tool("pg_dump")
    await _run_pg(tool, url, ["--format=custom", "--no-owner", "--no-privileges", f"--file={target}"])
    _fsync(target)
    return await _tool_version(tool)


async def _tool_version(tool: str) -> str:
    process = await asyncio.create_subprocess_exec(tool, "--version", stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return out.decode().strip()


def find_pg_tool(name: str) -> str:
    """``name`` (pg_dump, pg_restore): GOVSHARE_PG_BIN's folder, else PATH, else the newest of
    the usual install folders (Debian's /usr/lib/postgresql/N/bin and the like); a newer
    pg_dump reads older servers, not the reverse. BackupRefused naming the package when none."""
    folder = os.environ.get("GOVSHARE_PG_BIN")
    if folder and (Path(folder) / name).is_file():
        return str(Path(folder) / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = [path for pattern in _PG_DIRS for path in Path("/").glob(f"{pattern.lstrip('/')}/{name}")]
    if candidates:
        return str(max(candidates, key=_version_key))
    raise BackupRefused(
        f"{name} is not installed: install the PostgreSQL client tools of your server's major version or "
        "newer (Debian/Ubuntu: apt-get install postgresql-client; RHEL: dnf install postgresql), "
        "or set GOVSHARE_PG_BIN to the folder holding it"
    )


def _version_key(path: Path) -> tuple[int, ...]:
    digits = "".join(ch if ch.isdigit() else " " for ch in str(path)).split()
    return tuple(int(part) for part in digits)


async def _run_pg(tool: str, url: str, arguments: list[str]) -> None:
    """Run a libpq tool on the database at ``url``; the password goes by PGPASSWORD, never
    on the command line (visible to every user in ps)."""
    parsed = make_url(url)
    env = {**os.environ, **({"PGPASSWORD": parsed.password} if parsed.password else {})}
    libpq = parsed.set(drivername="postgresql", password=None, query={}).render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        tool, *arguments, f"--dbname={libpq}", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    if process.returncode != 0:
        raise BackupRefused(
            f"{Path(tool).name} failed ({process.returncode}): {err.decode(errors='replace').strip()}"
        )


async def alembic_revision(url: str) -> str | None:
    """The database's Alembic revision (``alembic_version``), or None before Alembic."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            has = await conn.run_sync(lambda sync: sa.inspect(sync).has_table("alembic_version"))
            if not has:
                return None
            return await conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
    finally:
        await engine.dispose()


def _copy_data_folder(settings: Settings, out: Path) -> list[dict[str, Any]]:
    entries = []
    database = _database_file(settings.database_url)
    for source in _data_files(settings.data_dir, database):
        name = f"data/{source.relative_to(settings.data_dir).as_posix()}"
        entries.append(_copy(source, out, name, _role(source, settings)))
    catalog = settings.catalog
    if catalog.exists() and not catalog.resolve().is_relative_to(settings.data_dir.resolve()):
        for source in (
            [catalog] if catalog.is_file() else sorted(p for p in catalog.rglob("*") if p.is_file())
        ):
            relative = source.relative_to(catalog.parent).as_posix()
            entries.append(_copy(source, out, f"catalog/{relative}", "catalog"))
    return entries


def _data_files(data_dir: Path, database: Path | None) -> Iterator[Path]:
    """Every file of the data folder, sub-folders included (a department's files, a catalog
    folder), but ``reports/`` (output, made again), ``workers/`` (the running processes'
    slot locks) and what ``_kept`` leaves out."""
    for path in sorted(data_dir.rglob("*")):
        parts = path.relative_to(data_dir).parts
        hidden = any(part.startswith(".") for part in parts)  # drafts (keys, secrets) being written
        if path.is_file() and parts[0] not in _SKIPPED_FOLDERS and not hidden and _kept(path, database):
            yield path


def _kept(path: Path, database: Path | None) -> bool:
    if path.name.endswith(_SKIPPED_SUFFIXES):
        return False
    return database is None or path.resolve() != database.resolve()


def _role(source: Path, settings: Settings) -> str:
    if source.name in ("keys.json", "retired-keys.json"):
        return "keys"
    if source.name == "audit-secret":
        return "secret"
    return "catalog" if source.resolve().is_relative_to(settings.catalog.resolve()) else "data"


def _copy(source: Path, out: Path, name: str, role: str) -> dict[str, Any]:
    target = out / name
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if _is_sqlite(source):
        sqlite_copy(source, target)  # a department database may be written while we copy
    else:
        shutil.copyfile(source, target)
        _fsync(target)
    if source.name in _PRIVATE:
        target.chmod(0o600)
    return _entry(out, name, role)


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == _SQLITE_MAGIC


def _catalog_place(settings: Settings) -> dict[str, Any]:
    """Where the catalog was and where the backup holds it (restore puts it back there)."""
    catalog = settings.catalog
    inside = catalog.resolve().is_relative_to(settings.data_dir.resolve())
    held = f"data/{catalog.resolve().relative_to(settings.data_dir.resolve()).as_posix()}" if inside \
        else f"catalog/{catalog.name}"  # fmt: skip
    return {"path": str(catalog), "held": held if catalog.exists() else None}


def public_settings(settings: Settings) -> dict[str, Any]:
    """The settings as JSON, every URL's password replaced by ``***`` (the only secrets
    settings carry: keys and the audit secret are files, backed up as such). Every string
    that is a URL is hidden, wherever it sits, so a setting added later is covered too."""
    plain = json.loads(json.dumps(dataclasses.asdict(settings), default=str))
    return dict(_hide_urls(plain))


def _hide_urls(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _hide_urls(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_hide_urls(item) for item in value]
    return shown_url(value) if isinstance(value, str) and "://" in value else value


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    sums = "".join(f"{entry['sha256']}  {entry['path']}\n" for entry in manifest["files"])
    (out / SUMS).write_text(sums)
    _fsync(out / SUMS)
    draft = out / f".{MANIFEST}.partial"
    draft.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    _fsync(draft)
    os.replace(draft, out / MANIFEST)
    fsync_folder(out)


# --- restore ----------------------------------------------------------------------------


async def restore(source: Path, settings: Settings, *, force: bool = False) -> Restored:
    """Restore the backup in ``source`` into ``settings``' data folder and database. Checks
    everything first; BackupRefused naming the file or flag at the first problem (an OSError
    too: a target that cannot be written, a full disk)."""
    try:
        return await _restore(source, settings, force)
    except OSError as exc:
        raise BackupRefused(f"restore into --data {settings.data_dir} failed: {_os_problem(exc)}") from exc


async def _restore(source: Path, settings: Settings, force: bool) -> Restored:
    manifest = check_backup(source)
    backend = make_url(settings.database_url).get_backend_name()
    if manifest["backend"] != backend:
        raise BackupRefused(
            f"the backup is of a {manifest['backend']} platform database and the target is {backend}: "
            "set GOVSHARE_DATABASE_URL to a database of the same kind"
        )
    _check_target(settings.data_dir, force)
    await _check_empty_database(settings.database_url, force)
    copied = await asyncio.to_thread(_restore_files, source, manifest, settings)
    if backend == "sqlite":
        await asyncio.to_thread(_restore_sqlite, source / SQLITE_FILE, _sqlite_path(settings.database_url))
    else:
        await _run_pg(find_pg_tool("pg_restore"), settings.database_url,
                      ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                       *(["--clean", "--if-exists"] if force else []), str(source / DUMP_FILE)])  # fmt: skip
    revision = await upgrade_schema(settings.database_url)
    events = await _verified_events(settings.database_url)
    return Restored(settings.data_dir, shown_url(settings.database_url), copied, manifest["alembicRevision"],
                    revision, events)  # fmt: skip


def check_backup(source: Path) -> dict[str, Any]:
    """The manifest of the backup in ``source`` once every file it names is there with its
    size and SHA-256 and no other file is; BackupRefused naming the first problem."""
    path = source / MANIFEST
    if not source.is_dir():
        raise BackupRefused(f"{source} is not a folder: give the folder `govshare backup DIR` wrote")
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise BackupRefused(
            f"{path} is missing: {source} is not a backup, or the backup was cut short "
            "(the manifest is written last)"
        ) from None
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"{path} cannot be read as JSON: {exc}") from exc
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or not isinstance(manifest.get("files"), list)
    ):
        raise BackupRefused(f"{path} is not a govshare backup manifest (format {FORMAT})")
    named = _check_names(source, manifest["files"])
    links = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_symlink())
    if links:
        raise BackupRefused(f"{source / links[0]} is a symbolic link: a backup holds plain files only")
    extra = sorted(p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file())
    unknown = [name for name in extra if name not in named and name not in (MANIFEST, SUMS)]
    if unknown:
        raise BackupRefused(f"{source / unknown[0]} is not named by {MANIFEST}: the backup was changed")
    return dict(manifest)


def _check_names(source: Path, entries: list[Any]) -> set[str]:
    """Every name the manifest gives, each checked (``_check_file``) and given once."""
    named: set[str] = set()
    for entry in entries:
        name = _check_file(source, entry)
        if name in named:
            raise BackupRefused(f"{MANIFEST} names {name!r} twice: the backup was changed")
        named.add(name)
    return named


def _plain_name(name: Any) -> TypeGuard[str]:
    """The manifest is not signed: a name is trusted only in the one spelling backup writes
    (``data/…`` or ``catalog/…`` in plain "/"-separated segments, or a top-level file), so
    nothing restore derives from it (``DATA / rest``) can leave the target folder."""
    if not isinstance(name, str) or "\\" in name or "\x00" in name:
        return False
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return False
    return name in (SQLITE_FILE, DUMP_FILE, SETTINGS_FILE) or (
        len(parts) > 1 and parts[0] in ("data", "catalog")
    )


def _check_file(source: Path, entry: Any) -> str:
    name = entry.get("path") if isinstance(entry, dict) else None
    if not _plain_name(name):
        raise BackupRefused(
            f"{MANIFEST} names a file outside the backup's layout: {name!r} "
            "(plain relative names under data/ or catalog/ only): the backup was changed"
        )
    path = source / name
    if path.is_symlink() or any(
        parent.is_symlink() for parent in path.parents if parent != source and parent.is_relative_to(source)
    ):
        raise BackupRefused(f"{path} is a symbolic link: a backup holds plain files only")
    if not path.is_file():
        raise BackupRefused(f"{path} is missing: the backup is partial")
    size = path.stat().st_size
    if size != entry.get("bytes"):
        raise BackupRefused(
            f"{path} holds {size} bytes, {MANIFEST} says {entry.get('bytes')}: the backup was changed"
        )
    if sha256_file(path) != entry.get("sha256"):
        raise BackupRefused(
            f"{path}: its SHA-256 is not the one in {MANIFEST}: the file was changed or damaged"
        )
    return name


def _check_target(data_dir: Path, force: bool) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupRefused(f"--data {data_dir} is a file, not a folder")
    if data_dir.is_dir() and any(data_dir.iterdir()) and not force:
        raise BackupRefused(
            f"--data {data_dir} is not empty: restore into a new folder, "
            "or pass --force to overwrite its files"
        )


async def _check_empty_database(url: str, force: bool) -> None:
    """A PostgreSQL target must hold no table (unless ``force``); a SQLite one is a file of
    the data folder, checked with it."""
    if make_url(url).get_backend_name() != "postgresql" or force:
        return
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    if tables:
        raise BackupRefused(
            f"the target database {shown_url(url)} already holds {len(tables)} tables "
            f"({', '.join(sorted(tables)[:3])} ...): "
            "restore into an empty database, or pass --force to replace them"
        )


def _restore_targets(manifest: dict[str, Any], data_dir: Path) -> list[tuple[str, Path]]:
    """(backup name, target) of every file restored into ``data_dir``; BackupRefused when a
    target or a folder on its way is a symbolic link (``--force`` over a live folder would
    write through it, outside the data folder)."""
    targets = []
    for entry in manifest["files"]:
        name = str(entry["path"])
        if name.startswith("data/"):
            target = data_dir / name.removeprefix("data/")
        elif name.startswith("catalog/"):
            target = data_dir / name.removeprefix("catalog/")  # DATA/catalog.yaml: the default
        else:
            continue  # the database and settings.json: not files of the data folder
        on_the_way = [target, *(p for p in target.parents if p != data_dir and p.is_relative_to(data_dir))]
        linked = next((p for p in on_the_way if p.is_symlink()), None)
        if linked is not None:
            raise BackupRefused(
                f"{linked} is a symbolic link: restore writes only inside --data {data_dir}; remove it first"
            )
        targets.append((name, target))
    return targets


def _restore_files(source: Path, manifest: dict[str, Any], settings: Settings) -> int:
    targets = _restore_targets(manifest, settings.data_dir)  # all checked before one is written
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    copied = 0
    for name, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
        if target.name in _PRIVATE:
            target.chmod(0o600)
        copied += 1
    return copied


def _restore_sqlite(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target.with_name(target.name + suffix) for suffix in ("-wal", "-shm", "-journal")):
        stale.unlink(missing_ok=True)
    draft = target.with_name(f".{target.name}.partial")
    shutil.copyfile(source, draft)
    _fsync(draft)
    os.replace(draft, target)
    fsync_folder(target.parent)


async def upgrade_schema(url: str) -> str | None:
    """Bring a restored database to this version's head revision (gateway.dbschema: a backup
    of an older version is upgraded, one made before migrations adopted); the revision after."""
    from gateway import dbschema

    _, after = await dbschema.upgrade_url(url)
    return after


async def _verified_events(url: str) -> int:
    from gateway.audit import verify_chain

    result = await verify_chain(url)
    if not result.ok:
        raise BackupRefused(
            f"restored, but the audit chain is broken at {result.first_broken}: {result.reason}"
        )
    return result.checked


# --- small helpers ----------------------------------------------------------------------


def _outside_the_data(out: Path, data_dir: Path) -> None:
    """A backup inside the data folder would copy itself, half written, and every earlier
    backup (keys included) into each next one: BackupRefused naming the folder."""
    if out.resolve().is_relative_to(data_dir.resolve()):
        raise BackupRefused(
            f"the backup folder {out} is inside the data folder {data_dir}: each backup would copy "
            "itself and the earlier ones; write backups outside it (e.g. /var/backups/govshare/DATE)"
        )


def _new_folder(out: Path, flag: str) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupRefused(
            f"{flag} {out} exists and is not an empty folder: give a new folder for the backup"
        )
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    out.chmod(0o700)


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ConfigurationError(f"{shown_url(url)} is not a SQLite file: nothing to back up or restore")
    return Path(database)


def _database_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _entry(out: Path, name: str, role: str) -> dict[str, Any]:
    path = out / name
    return {"path": name, "role": role, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
