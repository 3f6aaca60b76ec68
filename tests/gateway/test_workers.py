"""``govshare serve --workers N`` set-up (gateway.workers): worker slots and audit chain names,
the environment the workers inherit, and the refusals of settings that would split state
between workers. The processes themselves: tests/e2e/test_workers_e2e.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from uvicorn.config import STARTUP_FAILURE

from errors import ConfigurationError
from gateway import workers
from gateway.demo import build_demo
from gateway.settings import PLATFORM_STORAGE, Settings
from gateway.workers import (
    check_shared_state,
    claim_slot,
    instance_prefix,
    worker_environment,
    worker_instance,
    worker_settings,
)

HOLDER = """
import sys
from pathlib import Path
from gateway.workers import claim_slot
print(claim_slot(Path(sys.argv[1]), "host", 2), flush=True)
sys.stdin.read()  # hold the slot until killed
"""


@pytest.fixture
def held_here() -> Iterator[None]:
    """Slots this test process takes are let go afterwards (a worker holds its own for life)."""
    yield
    while workers._held:
        workers._held.pop().close()


def test_slots_go_to_the_lowest_free_one_and_come_back_when_a_process_ends(tmp_path: Path, held_here):
    command = [sys.executable, "-c", HOLDER, str(tmp_path)]
    root = Path(__file__).parents[2]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root
    ) as holder:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "0"
        assert claim_slot(tmp_path, "host", 2) == 1  # 0 is held by the other process
        with pytest.raises(ConfigurationError, match="GOVSHARE_INSTANCE"):
            claim_slot(tmp_path, "host", 2)  # this process could not take its own twice
        holder.kill()  # SIGKILL: the kernel frees its lock
    assert claim_slot(tmp_path, "host", 2) == 0  # a restarted worker continues slot 0's chain
    assert claim_slot(tmp_path, "other-host", 1) == 0  # prefixes never share slots


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"GOVSHARE_INSTANCE": "gw-a"}, "gw-a"),
        ({"GOVSHARE_INSTANCE": "host 1/杭州"}, "host_1___"),
        ({}, None),  # the host's name
    ],
)
def test_the_chain_prefix_is_the_instance_setting_or_the_host(environ, expected):
    prefix = instance_prefix(environ)
    assert prefix == (expected or instance_prefix({"GOVSHARE_INSTANCE": socket.gethostname()}))
    assert len(worker_instance("x" * 56, 1000)) <= 64  # gateway.audit's limit


def test_workers_inherit_the_settings_flags_included(tmp_path: Path):
    settings = Settings.load({}, data=str(tmp_path), port="0", workers="3", cache_url="off")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        environment = worker_environment(settings, sock)
        assert environment["GOVSHARE_PORT"] == str(sock.getsockname()[1])
    assert environment["GOVSHARE_WORKERS"] == "3"
    child = Settings.load(environment)
    assert (child.data_dir, child.catalog, child.database_url) == (
        settings.data_dir, settings.catalog, settings.database_url,
    )  # fmt: skip
    assert child.compare.storage == settings.compare.storage == PLATFORM_STORAGE


@pytest.mark.parametrize(
    ("environ", "storage"),
    [
        ({}, "memory://"),
        ({"GOVSHARE_WORKERS": "2"}, PLATFORM_STORAGE),
        ({"GOVSHARE_WORKERS": "2", "GOVSHARE_CACHE_URL": "redis://r:6379/1"}, "redis://r:6379/1"),
        ({"GOVSHARE_REDIS_URL": "redis://r:6379/2"}, "redis://r:6379/2"),
        ({"GOVSHARE_WORKERS": "2", "GOVSHARE_RATE_LIMIT_STORAGE": "memory://"}, "memory://"),
    ],
)
def test_compare_counters_live_where_every_worker_sees_them(environ, storage):
    assert Settings.load(environ).compare.storage == storage


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"GOVSHARE_WORKERS": "0"}, "GOVSHARE_WORKERS must be at least 1"),
        ({"GOVSHARE_WORKERS": "many"}, "GOVSHARE_WORKERS must be a whole number"),
        ({"GOVSHARE_REDIS_URL": "localhost:6379"}, "redis://host:port/db"),
    ],
)
def test_bad_worker_settings_name_the_variable(environ, fragment):
    with pytest.raises(ConfigurationError, match=fragment):
        Settings.load(environ)


def test_per_process_compare_counters_are_refused_with_several_workers():
    settings = Settings.load({"GOVSHARE_WORKERS": "2", "GOVSHARE_RATE_LIMIT_STORAGE": "memory://"})
    with pytest.raises(ConfigurationError, match="GOVSHARE_REDIS_URL"):
        check_shared_state(settings)
    check_shared_state(Settings.load({"GOVSHARE_WORKERS": "2"}))  # the platform database: fine


def test_each_worker_has_its_own_chain_and_only_slot_0_polls_for_changes():
    settings = Settings.load({"GOVSHARE_WORKERS": "3", "GOVSHARE_CHANGE_POLL_SECONDS": "120"})
    first, second = worker_settings(settings, "gw", 0), worker_settings(settings, "gw", 1)
    assert (first.instance, first.change_poll_seconds) == ("gw-w0", 120)
    assert (second.instance, second.change_poll_seconds) == ("gw-w1", 0)


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the demo's catalog and sources (``govshare serve`` checks both first)."""
    folder = tmp_path_factory.mktemp("serve")
    build_demo(folder, organizations=3, persons=2)
    return folder


def serve_refused(folder: Path, *flags: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """``govshare serve --port 0 ...`` that must refuse at once: its status and output."""
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(folder), "--port", "0", *flags]
    env = {**os.environ, "GOVSHARE_LOG_LEVEL": "warning", **environ}
    root = Path(__file__).parents[2]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=root, timeout=60, check=False)


def test_serve_with_its_slots_held_by_another_server_refuses_before_serving(demo_folder: Path):
    """Another server holds a slot of this prefix: one clear error and status 2, before the
    port is announced; it used to start workers that failed and were started again, forever."""
    holder = [sys.executable, "-c", HOLDER.replace('"host"', '"held"'), str(demo_folder)]
    root = Path(__file__).parents[2]
    with subprocess.Popen(holder, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root) as held:
        assert held.stdout is not None and held.stdout.readline().strip() == "0"
        done = serve_refused(demo_folder, "--workers", "2", GOVSHARE_INSTANCE="held")
        held.kill()
    assert done.returncode == 2, done.stderr[-2000:]
    assert "worker slot 0 of 'held'" in done.stderr and "GOVSHARE_INSTANCE" in done.stderr
    assert "serving" not in done.stdout


@pytest.mark.parametrize("count", ["1", "2"])
def test_serve_with_its_database_unreachable_names_it_without_the_password(demo_folder: Path, count: str):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    url = f"postgresql+asyncpg://govshare:s3cret@127.0.0.1:{closed}/govshare"
    done = serve_refused(demo_folder, "--workers", count, GOVSHARE_DATABASE_URL=url)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "cannot be reached" in done.stderr and "GOVSHARE_DATABASE_URL" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_a_worker_that_cannot_start_ends_with_uvicorns_startup_failure(
    tmp_path: Path, held_here, monkeypatch
):
    """A refused setting in a worker ends it with STARTUP_FAILURE, on which uvicorn's
    supervisor stops them all (and ``serve_workers`` fails with status 2); the plain exit of
    an exception had the supervisor start it again and again."""
    claim_slot(tmp_path, "busy", 1)  # this process holds the only slot
    for name, value in {
        "GOVSHARE_DATA": str(tmp_path),
        "GOVSHARE_WORKERS": "1",
        "GOVSHARE_WORKER_PREFIX": "busy",
    }.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as ended:
        workers.worker_app()
    assert ended.value.code == STARTUP_FAILURE


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite:////tmp/x/platform.db", "postgresql+asyncpg://u@127.0.0.1/db"]
)
def test_serve_defaults_to_one_worker_per_core_on_either_database(url: str) -> None:
    from gateway.cli import default_workers

    assert default_workers(Settings.load({"GOVSHARE_DATABASE_URL": url})) == (os.cpu_count() or 1)
