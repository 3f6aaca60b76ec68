"""PROMETHEUS_MULTIPROC_DIR as an operator may set it (resolvers.metrics.ensure_multiproc_dir),
through the real command line: prometheus-client opens a file in it at import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway.cli", *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_a_multiproc_dir_not_yet_made_is_made_not_a_traceback_of_every_command(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "yet"
    done = run_cli({"PROMETHEUS_MULTIPROC_DIR": str(folder)}, "--help")
    assert done.returncode == 0, done.stderr
    assert folder.is_dir()


def test_a_multiproc_dir_that_cannot_be_made_names_the_variable(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    done = run_cli({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "a-file" / "x")}, "--help")
    assert done.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR=" in done.stderr and "FileNotFoundError" not in done.stderr
