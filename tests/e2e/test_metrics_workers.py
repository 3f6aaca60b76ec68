"""Multiprocess metrics: two real ``govshare serve`` processes on one data folder share a
``PROMETHEUS_MULTIPROC_DIR``, as the workers of ``serve --workers N`` do.

A scrape of either process counts the requests of both; the unauthenticated listener
(``GOVSHARE_METRICS_LISTEN``) of one answers for both; after a worker ends and
``mark_process_dead`` is called for it (the supervisor's part), its live gauges are gone and
its counters stay (a counter never goes back: ``rate()`` stays right).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.parser import text_string_to_metric_families

from gateway.auth import load_signer
from gateway.demo import BIGDATA, HOUSING, build_demo

pytestmark = pytest.mark.e2e

OK_QUERY = {"operation": "query", "mode": "query", "outcome": "OK"}


class Worker:
    """One ``govshare serve`` process; ``url`` is its base URL once it said where it serves."""

    def __init__(self, data_dir: Path, name: str, env: dict[str, str], workers: int = 1) -> None:
        command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(data_dir), "--port", "0",
                   "--workers", str(workers)]  # fmt: skip
        self.log = (data_dir / f"{name}.log").open("w+")
        env = {**env, "GOVSHARE_INSTANCE": name}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        try:
            self.url = _served_at(self.process.stdout, self.log)
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.log.seek(0)
        raise AssertionError(f"serve did not become healthy: {self.log.read()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


def _served_at(stdout: IO[str] | None, log: IO[str]) -> str:
    assert stdout is not None
    line = stdout.readline()  # "govshare: serving CATALOG at http://127.0.0.1:PORT/graphql"
    found = re.search(r"at (http://\S+)/graphql", line)
    if found is None:
        log.seek(0)
        raise AssertionError(f"serve did not start: {line!r} {log.read()}")
    return found.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def requests_ok(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "govshare_requests_total" and sample.labels == OK_QUERY:
                return sample.value
    return 0.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("workers")
    build_demo(data_dir, organizations=5, persons=2)
    load_signer(data_dir)  # the key set, made once before two processes could race to make it
    return data_dir


@pytest.fixture(scope="module")
def workers(folder: Path) -> Iterator[tuple[Worker, Worker, Path, str]]:
    shared = folder / "prometheus"
    shared.mkdir()  # the supervisor makes it empty at start
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared), "GOVSHARE_CHANGE_POLL_SECONDS": "0"}
    env.pop("GOVSHARE_DATABASE_URL", None)
    listen = f"127.0.0.1:{free_port()}"
    first = Worker(folder, "worker-a", {**env, "GOVSHARE_METRICS_LISTEN": listen})
    try:
        second = Worker(folder, "worker-b", env)
    except BaseException:
        first.stop()
        raise
    yield first, second, shared, f"http://{listen}/metrics"
    for worker in (first, second):
        if not worker.log.closed:
            worker.stop()


def ask(worker: Worker, folder: Path, times: int) -> None:
    token = load_signer(folder).issue(HOUSING.code, ["consumer"], ttl=600)
    for _ in range(times):
        response = httpx.post(worker.url + "/graphql", json={"query": "{ __typename }"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
        assert response.status_code == 200, response.text


def scrape(worker: Worker, folder: Path) -> str:
    token = load_signer(folder).issue(BIGDATA.code, ["operator"], ttl=600)
    response = httpx.get(worker.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.text


def test_each_worker_answers_for_both_and_a_dead_ones_live_gauges_go(
    workers: tuple[Worker, Worker, Path, str], folder: Path
) -> None:
    first, second, shared, listener = workers
    ask(first, folder, 3)
    ask(second, folder, 2)
    assert requests_ok(scrape(first, folder)) == 5
    assert requests_ok(scrape(second, folder)) == 5
    open_scrape = httpx.get(listener, timeout=30)  # no token: the private listener
    assert open_scrape.status_code == 200
    assert requests_ok(open_scrape.text) == 5
    assert "govshare_grants{" in open_scrape.text  # the platform counts, from whichever process
    pid = second.process.pid
    assert list(shared.glob(f"gauge_livemax_{pid}.db"))  # its circuit states
    second.stop()
    mark_process_dead(pid, str(shared))  # the supervisor's part when a worker exits
    assert not list(shared.glob(f"gauge_live*_{pid}.db"))
    assert requests_ok(httpx.get(listener, timeout=30).text) == 5  # its counts stay


def test_serve_workers_sets_the_folder_and_one_worker_serves_the_listener(folder: Path) -> None:
    """``serve --workers 2``: the supervisor sets and empties DATA/workers/prometheus, both
    workers write there, the slot-0 worker's listener counts what either answered."""
    shared = folder / "workers" / "prometheus"
    shared.mkdir(parents=True, exist_ok=True)
    (shared / "counter_1.db").write_bytes(b"an earlier run")
    env = {**os.environ, "GOVSHARE_CHANGE_POLL_SECONDS": "0", "GOVSHARE_RATE_LIMIT_STORAGE": "platform"}
    for name in ("GOVSHARE_DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR", "GOVSHARE_REDIS_URL"):
        env.pop(name, None)
    listen = f"127.0.0.1:{free_port()}"
    pool = Worker(folder, "pool", {**env, "GOVSHARE_METRICS_LISTEN": listen}, workers=2)
    try:
        assert not (shared / "counter_1.db").exists()
        deadline, scraped = time.monotonic() + 60, None
        while scraped is None and time.monotonic() < deadline:  # the slot-0 worker's listener is up
            try:
                scraped = httpx.get(f"http://{listen}/metrics", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert scraped is not None and scraped.status_code == 200
        before = requests_ok(scraped.text)
        ask(pool, folder, 12)
        assert requests_ok(httpx.get(f"http://{listen}/metrics", timeout=30).text) == before + 12
        pids: set[int] = set()
        while len(pids) < 2 and time.monotonic() < deadline + 30:  # spawned interpreters start slowly
            pids = {int(f.stem.rsplit("_", 1)[1]) for f in shared.glob("*.db")}
            time.sleep(0.1)
        assert len(pids) == 2  # both workers record into the folder
    finally:
        pool.stop()
