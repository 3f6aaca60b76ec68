"""``govshare backup | restore`` and ``govshare audit archive | verify-archive`` (issue 12
section 2; README "Backup and restore"; Zhengzhou art. 27, Zhejiang art. 33, Sanya art. 22).

    govshare backup DIR [--data DATA]
    govshare restore DIR [--data DATA | --data-dir DATA] [--database-url URL] [--force]
    govshare audit archive --older-than 6h|30d DIR [--data DATA]
    govshare audit verify-archive FILE [--jwks FILE] [--data DATA]
    govshare audit verify [--archives DIR [--jwks FILE]] [--data DATA]

Exit codes: 0 done; 1 an archive that does not verify (each problem on stderr); 2 refused
(bad flag, tampered or partial backup, target not empty), the message naming the file or flag.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from errors import BadRequest
from gateway.settings import Settings


def add_parsers(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """``backup`` and ``restore`` (``command`` is gateway.cli's ``_command``)."""
    made = command(commands, "backup", "write a consistent backup of the platform, online", run_backup)
    made.add_argument("dir", metavar="DIR", help="a new (or empty) folder for the backup")
    made.add_argument("--catalog", default=None, help="catalog file or folder (default: GOVSHARE_CATALOG)")
    restore = commands.add_parser("restore", help="restore a backup into a fresh data folder and database")
    restore.add_argument("dir", metavar="DIR", help="the folder `govshare backup` wrote")
    restore.add_argument("--data", "--data-dir", dest="data", default=None,
                         help="the data folder to restore into (default: GOVSHARE_DATA)")  # fmt: skip
    restore.add_argument("--database-url", default=None,
                         help="the platform database to restore into (default: GOVSHARE_DATABASE_URL, "
                              "else DATA/platform.db); it must be empty")  # fmt: skip
    restore.add_argument("--force", action="store_true", help="overwrite a non-empty data folder or database")
    restore.set_defaults(run=run_restore)


def add_audit_parsers(audit: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """``audit archive`` and ``audit verify-archive``."""
    archive = command(audit, "archive", "move events older than an age into a signed archive", run_archive)
    archive.add_argument("--older-than", required=True, help="age of the events archived: 6h, 30d, 45m ...")
    archive.add_argument("dir", metavar="DIR", help="folder the archive is written to")
    verify = command(audit, "verify-archive", "check an audit archive offline", run_verify_archive)
    verify.add_argument("file", metavar="FILE", help="the archive (ZIP) `govshare audit archive` wrote")
    verify.add_argument("--jwks", default=None, help="the gateway's JWKS (default: the data folder's keys)")


def run_backup(args: argparse.Namespace) -> None:
    from gateway.backup import backup
    from gateway.cli import _require_platform, _settings

    settings = _settings(args)
    _require_platform(settings)
    manifest = asyncio.run(backup(settings, Path(args.dir)))
    total = sum(entry["bytes"] for entry in manifest["files"])
    print(json.dumps({"backup": args.dir, "backend": manifest["backend"], "files": len(manifest["files"]),
                      "bytes": total, "alembicRevision": manifest["alembicRevision"]}))  # fmt: skip


def run_restore(args: argparse.Namespace) -> None:
    from gateway.backup import restore

    settings = Settings.load(data=args.data, database_url=args.database_url)
    done = asyncio.run(restore(Path(args.dir), settings, force=args.force))
    summary = {"restored": str(done.data_dir), "database": done.database, "files": done.files,
               "alembicRevision": done.revision, "upgradedTo": done.upgraded_to,
               "auditEventsVerified": done.audit_events}  # fmt: skip
    print(json.dumps(summary))


def run_archive(args: argparse.Namespace) -> None:
    from gateway.audit_archive import archive_and_prune, parse_age
    from gateway.auth import load_signer
    from gateway.cli import _require_platform, _settings, admin_audit

    age = parse_age(args.older_than)  # first: a bad flag is refused before anything is opened
    settings = _settings(args)
    _require_platform(settings)
    signer = load_signer(settings.data_dir, create=False)
    result = asyncio.run(archive_and_prune(settings.database_url, signer, Path(args.dir), age))
    if result.path is not None:
        detail = {"archive": result.path.name, "sha256": result.sha256, "events": result.events}
        admin_audit(settings, "audit.archive", None, detail)
    print(json.dumps(result.as_json()))


def run_verify_archive(args: argparse.Namespace) -> int:
    from gateway.audit_archive import verify_archive
    from gateway.auth import voucher_keys
    from gateway.cli import _json_file, _settings

    jwks = _json_file(args.jwks, "--jwks") if args.jwks else voucher_keys(_settings(args).data_dir)
    check = verify_archive(args.file, jwks)
    if not check.ok:
        for problem in check.problems:
            print(f"govshare: audit archive refused: {problem}", file=sys.stderr)
        return 1
    summary = {key: check.manifest.get(key) for key in ("created", "cut", "chains")}
    print(json.dumps({"ok": True, "events": check.manifest["data"]["rows"], **summary}))
    return 0


def add_anchor_options(verify: argparse.ArgumentParser) -> None:
    """``audit verify --archives DIR [--jwks FILE]``: anchors checked against the archives."""
    verify.add_argument(
        "--archives", default=None, metavar="DIR",
        help="check every chain's anchor against the signed archives in DIR",
    )  # fmt: skip
    verify.add_argument(
        "--jwks", default=None, help="with --archives: public keys (default: the gateway's, retired included)"
    )


def check_anchors(args: argparse.Namespace, settings: Settings) -> tuple[bool, str]:
    """After the live chains verified: (ok, what to add to the ok line, "" for nothing).
    Without --archives the anchors are only counted, so the operator knows they were taken
    on trust (nothing said when no chain was ever pruned)."""
    from gateway.audit_anchors import load_anchors, verify_anchors
    from gateway.auth import voucher_keys
    from gateway.cli import _json_file

    if args.archives is None:
        anchors = asyncio.run(load_anchors(settings.database_url))
        unchecked = "chains start at anchors not checked against archives (give --archives DIR)"
        return True, f"{len(anchors)} {unchecked}" if anchors else ""
    folder = Path(args.archives)
    if not folder.is_dir():  # before the keys: the bad argument is named first
        raise BadRequest(f"--archives {folder} is not a folder: give the one `audit archive` wrote to")
    jwks = _json_file(args.jwks, "--jwks") if args.jwks else voucher_keys(settings.data_dir)
    check = asyncio.run(verify_anchors(settings.database_url, folder, jwks))
    for problem in check.problems:
        print(f"govshare: audit anchor not explained: {problem}", file=sys.stderr)
    said = f"{len(check.starts)} chains start at anchors explained by {check.archives} archives in {folder}"
    later = [f"{instance} from seq {seq}" for instance, seq in check.starts.items() if seq != 1]
    if later:  # older archives removed (retention): say where the archived history begins
        said += f" (archived {', '.join(later)})"
    return check.ok, said
