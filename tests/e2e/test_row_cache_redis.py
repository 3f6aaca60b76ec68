"""Two ``govshare serve`` processes (real uvicorn on 127.0.0.1) share their row cache through
a real Redis (``GOVSHARE_TEST_REDIS_URL``; skipped only when it is unset): a row read by
one is served by the other without a source call, and the Redis keys name no identity code."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import redis

from gateway.auth import load_signer
from gateway.demo import HOUSING, build_demo
from tests.e2e.conftest import serve as serve_logged

REDIS_URL = os.environ.get("GOVSHARE_TEST_REDIS_URL")
pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not REDIS_URL, reason="GOVSHARE_TEST_REDIS_URL is not set")]
QUERY = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { name status } } }"


def serve(data_dir: Path, instance: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "GOVSHARE_INSTANCE": instance, "GOVSHARE_LOG_LEVEL": "warning"}
    env.pop("GOVSHARE_DATABASE_URL", None)
    return serve_logged(data_dir, env, instance, "--cache-url", str(REDIS_URL), timeout=60)


@pytest.fixture
def two_gateways(tmp_path: Path) -> Iterator[tuple[str, str, list[str]]]:
    samples = build_demo(tmp_path, organizations=20, persons=5)
    client = redis.Redis.from_url(str(REDIS_URL))
    for key in client.scan_iter("govshare:rows:*"):  # Redis is shared between tests: start clean
        client.delete(key)
    started = [serve(tmp_path, name) for name in ("gw-a", "gw-b")]
    try:
        yield started[0][1], started[1][1], samples["organizations"]
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(timeout=20)
        client.close()


def ask(url: str, token: str, code: str) -> dict:
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote("住房保障资格审核"), "X-Voucher": "off"}
    response = httpx.post(url, json={"query": QUERY, "variables": {"c": code}}, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def cache_counts(url: str) -> tuple[int, int]:
    cache = httpx.get(url.replace("/graphql", "/readyz"), timeout=30).json()["cache"]
    assert cache["backend"] == "redis" and cache["state"] == "ok"
    return cache["hits"], cache["misses"]


def test_a_row_read_by_one_gateway_is_served_by_the_other_from_redis(
    two_gateways: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    first, second, codes = two_gateways
    token = load_signer(tmp_path).issue(HOUSING.code, ["consumer"], "test", 600)
    answer = ask(first, token, codes[0])
    assert answer["data"]["organization"]["enterpriseRegistration"]["name"]
    assert cache_counts(first) == (0, 1)
    assert ask(second, token, codes[0]) == answer
    assert cache_counts(second) == (1, 0)  # no source call in the second process
    keys = [key.decode() for key in redis.Redis.from_url(str(REDIS_URL)).keys("govshare:rows:*")]
    assert keys and not any(code in key for key in keys for code in codes)
    assert {key.rsplit(":", 1)[1] for key in keys} == {"#", "name", "status"}
