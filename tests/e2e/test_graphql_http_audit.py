"""GraphQL-over-HTTP conformance, measured by the reference audit of the spec's own package.

The npm package ``graphql-http`` (the GraphQL-over-HTTP working group's reference
implementation) ships ``auditServer``: every MUST and SHOULD of the spec as a request
and a check of the answer. It runs here in node against the session's real uvicorn
server on 127.0.0.1, with a bearer token added by a ``fetchFn`` (the audit has no
headers option). Every result must be ``ok``, warnings included.

The package is pinned in tests/e2e/graphql_http/package.json and package-lock.json and
installed with ``npm ci`` into a cache folder (``GOVSHARE_NPM_CACHE``, default
``~/.cache/govshare``) keyed by the lock file's hash, so it is fetched once per version.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

AUDIT = Path(__file__).parent / "graphql_http"
FILES = ("package.json", "package-lock.json", "audit.mjs")


def _tool_or_skip(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI") == "true":
        raise AssertionError(f"CI=true but {name} is not installed: the GraphQL-over-HTTP audit needs it")
    pytest.skip(f"{name} is not installed: the GraphQL-over-HTTP audit needs node and npm")


def _installed_audit() -> Path:
    """The audit folder with its node_modules, installed once per lock file into the cache."""
    npm = _tool_or_skip("npm")
    digest = hashlib.sha256(b"".join((AUDIT / f).read_bytes() for f in FILES)).hexdigest()[:16]
    cache = Path(os.environ.get("GOVSHARE_NPM_CACHE", Path.home() / ".cache" / "govshare"))
    folder = cache / f"graphql-http-audit-{digest}"
    if (folder / "node_modules" / "graphql-http" / "package.json").exists():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=cache))  # renamed when complete
    for name in FILES:
        shutil.copyfile(AUDIT / name, building / name)
    command = [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"]
    done = subprocess.run(command, cwd=building, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"npm ci failed in {building}: {done.stderr}"
    try:
        building.rename(folder)
    except OSError:  # another run installed it meanwhile
        shutil.rmtree(building, ignore_errors=True)
    return folder


def test_graphql_over_http_audit_is_all_ok(demo: Any) -> None:
    node = _tool_or_skip("node")
    folder = _installed_audit()
    command = [node, str(folder / "audit.mjs"), demo.url, demo.token("consumer")]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    ok = [r for r in results if r["status"] == "ok"]
    print(f"graphql-http auditServer: {len(ok)} of {len(results)} ok")
    assert len(results) >= 61, f"the audit ran only {len(results)} checks"
    failed = [f"{r['id']} {r['status']}: {r['name']}: {r['detail']}" for r in results if r not in ok]
    assert not failed, "\n".join(failed)
