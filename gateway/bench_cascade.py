"""``python -m gateway.bench_cascade``: reading through a downstream gateway vs reading upstream directly.

1. Builds the demo data (2,000 organizations) as the UPSTREAM gateway's folder, registers a
   downstream gateway's OAuth client there and starts ``govshare serve`` trusting it
   (``GOVSHARE_TRUSTED_GATEWAYS``).
2. Starts a DOWNSTREAM gateway (``govshare serve``, its own folder, keys and audit trail)
   whose catalog imports the upstream's ``amr.enterprise_registration`` through a
   ``graphql`` connector (connectors/graphql.py).
3. Drives both with the same one-organization query (3 unconditional items, code in
   variables, codes rotating) from ``--connections`` keep-alive connections: ``upstream``
   is a consumer of the upstream reading it directly; ``cascade`` is a county consumer
   reading through the downstream gateway, which forwards it (token, signed assertion,
   one upstream request per batch of one consumer). Both gateways audit.

Prints requests/s, p50 and p99 of each phase (median of ``--rounds`` interleaved rounds)
and the ratio cascade / upstream. Both servers and the load generator share the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.auth import load_signer
from gateway.bench import Measure, _median, drive, query_sender, serve_in_child
from gateway.cli import loop_factory
from gateway.clients import ClientStore
from gateway.demo import BIGDATA, HOUSING, build_demo, organization_codes
from gateway.demo_applications import approve_unconditional
from gateway.platform import PlatformDB, default_url
from gateway.settings import Settings
from policies.codes import make_uscc

QUERY = """query Bench($code: USCC!) { organization(code: $code) {
  enterpriseRegistration { name status registeredCapital } } }"""
ORGANIZATIONS = 2000
AMR = "11420100MB0001011L"  # the demo's market regulation department (upstream provider)
DOWNSTREAM = make_uscc("1", "1", "420102", "MB009001")  # the downstream platform's department
COUNTY = make_uscc("1", "1", "420102", "MB009002")  # a consumer of the downstream gateway
UPSTREAM_NAME = "bench-upstream"
DOWNSTREAM_CATALOG = """profile: hubei
departments:
  - {{code: {amr}, name: 武汉市市场监督管理局, region: "420100", level: city,
     connector: {{kind: graphql, url: "{url}", client_id: "${{BENCH_CLIENT_ID}}",
                 client_secret: "${{BENCH_CLIENT_SECRET}}", audience: {audience}, timeout: 5}}}}
resources:
  - id: upstream.enterprise_registration
    code: 420100-AMR-ENTERPRISE_REGISTRATION
    name: 企业登记信息
    provider: {amr}
    subject: organization
    key: uscc
    update_cycle: daily
    modes: [query]
    source: {{subject: organization, field: enterpriseRegistration}}
    items:
      - {{name: uscc, title: 统一社会信用代码}}
      - {{name: name, title: 企业名称}}
      - {{name: registered_capital, title: 注册资本（元）, type: integer}}
      - {{name: status, title: 登记状态}}
"""


async def register_downstream(upstream: Path) -> tuple[str, str]:
    platform = PlatformDB(default_url(str(upstream)))
    await platform.create_schema()
    client, secret = await ClientStore(platform).create(DOWNSTREAM, ["consumer"], "下级平台（基准测试）")
    await platform.close()
    return client.client_id, secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(data_dir: Path, port: int, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """``govshare serve`` in a child process, its output in a file; returns its GraphQL URL."""
    return serve_in_child(data_dir, port, env, "serve.log")


def sender(url: str, token: str, connections: int) -> Callable[[str], Awaitable[None]]:
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "bench", "Content-Type": "application/json",
               "X-Voucher": "off"}  # fmt: skip
    return query_sender(url, headers, connections, QUERY)


async def main_async(args: argparse.Namespace) -> None:
    root = Path(args.data or tempfile.mkdtemp(prefix="govshare-bench-cascade-"))
    upstream_dir, downstream_dir = root / "upstream", root / "downstream"
    build_demo(upstream_dir, ORGANIZATIONS, 100)
    downstream_dir.mkdir(parents=True, exist_ok=True)
    client_id, secret = await register_downstream(upstream_dir)
    downstream_port = free_port()
    trusted = [
        {"client_id": client_id, "jwks_url": f"http://127.0.0.1:{downstream_port}/.well-known/jwks.json"}
    ]
    up, up_url = serve(upstream_dir, 0, {"GOVSHARE_GATEWAY_NAME": UPSTREAM_NAME,
                                         "GOVSHARE_TRUSTED_GATEWAYS": json.dumps(trusted)})  # fmt: skip
    catalog = DOWNSTREAM_CATALOG.format(amr=AMR, url=up_url, audience=UPSTREAM_NAME)
    (downstream_dir / "catalog.yaml").write_text(catalog, encoding="utf-8")
    for folder in (upstream_dir, downstream_dir):  # Hubei art. 13: the county applies at both levels
        settings = Settings.load({}, data=str(folder))
        await approve_unconditional(settings, (COUNTY,), BIGDATA.code, "bench")
    down, down_url = serve(downstream_dir, downstream_port, {"BENCH_CLIENT_ID": client_id,
                                                             "BENCH_CLIENT_SECRET": secret})  # fmt: skip
    try:
        codes = organization_codes(ORGANIZATIONS)
        tokens = {"upstream": (up_url, load_signer(upstream_dir).issue(HOUSING.code, ["consumer"])),
                  "cascade": (down_url, load_signer(downstream_dir).issue(COUNTY, ["consumer"]))}  # fmt: skip
        runs: dict[str, list[Measure]] = {name: [] for name in tokens}
        for round_ in range(args.rounds):  # interleaved and alternated
            for name in list(tokens)[round_ % 2 :] + list(tokens)[: round_ % 2]:
                one = sender(*tokens[name], args.connections)  # fresh connections: idle ones are closed
                await drive("warm-up", one, codes, args.connections, 1.0)
                runs[name].append(await drive(name, one, codes, args.connections, args.seconds))
    finally:
        for process in (down, up):
            process.terminate()
            process.wait()
    report(args, _median(runs["upstream"]), _median(runs["cascade"]))


def report(args: argparse.Namespace, upstream: Measure, cascade: Measure) -> None:
    print(f"govshare bench_cascade: {args.connections} connections, {args.seconds:.0f} s per phase, "
          f"median of {args.rounds} rounds; two gateways, one uvicorn worker each, audit on")  # fmt: skip
    upstream.name = "upstream gateway, read directly"
    cascade.name = "through the downstream gateway (graphql connector)"
    print(upstream.line())
    print(cascade.line())
    print(f"ratio cascade / upstream requests/s: {cascade.rate / upstream.rate:.2f}")
    print(f"added p50: {cascade.percentile(0.5) - upstream.percentile(0.5):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m gateway.bench_cascade", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--data", default=None, help="folder for both gateways' data (default: a temp dir)")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(main_async(args))


if __name__ == "__main__":
    main()
