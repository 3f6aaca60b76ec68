"""The ``govshare`` command line. Every command takes ``--data DIR`` (default: GOVSHARE_DATA,
else ~/.local/share/govshare), the folder that ``serve`` and ``demo`` use; every command
that reads the catalog takes ``--catalog PATH`` (default: GOVSHARE_CATALOG, else
DATA/catalog.yaml), the same default as ``serve``.

Only ``serve`` and ``demo`` make a data folder's state (signing keys, the platform
database). Every other command works on an existing one and refuses, naming ``--data`` /
``GOVSHARE_DATA``, when the folder has none: a token signed with a fresh key set, or a grant
written into a new platform database, would silently reach no running gateway.

    govshare demo    [--data DIR] [--host H] [--port P] [--organizations N] [--persons N] [--no-serve]
    govshare serve   [--data DIR] [--catalog PATH] [--host H] [--port P] [--workers N]
    govshare token   --department USCC --roles consumer,operator [--ttl S]
    govshare grant   add --consumer USCC --resource ID --items a,b --purpose TEXT [--modes query] [--days N]
                     [--catalog PATH]
    govshare grant   list | revoke GRANT_ID
    govshare catalog check [PATH | --catalog PATH] [--sources]
    govshare client  create --department USCC --roles ... --name NAME | list | disable CLIENT_ID
    govshare keys    rotate [--keep S] | list
    govshare audit   verify | export [--since ISO] | archive --older-than 6h DIR | verify-archive FILE
    govshare backup  DIR
    govshare restore DIR [--data DIR] [--database-url URL] [--force]
    govshare voucher verify TOKEN --response FILE [--jwks FILE]
    govshare report  --year YYYY [--department USCC] [--out DIR] [--catalog PATH]
    govshare db      upgrade [--to REV] | current | history | revision -m MESSAGE
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import shlex
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from sqlalchemy.engine import make_url

from errors import BadRequest, ConfigurationError, GovshareError
from gateway import cli_backup, cli_catalog, cli_db, cli_notices, cli_profiles, demo, demo_rest, logs
from gateway.app import Gateway, check_connectors, create_app, served_catalog, settings_catalog
from gateway.auth import load_signer, voucher_keys
from gateway.demo_applications import approve_demo_consumers
from gateway.heap import settle_heap
from gateway.metrics_endpoint import serving_listener
from gateway.platform import PlatformDB, new_grant_row
from gateway.protocol import bounded_head_protocol
from gateway.settings import Settings
from gateway.workers import before_serving, reuse_port_socket, serve_workers
from policies.catalog import Catalog
from policies.chinatime import check_range, parse_instant, utc_now
from policies.codes import validate_uscc
from policies.decision import check_grantable
from policies.profile import load_profile
from policies.share import Mode


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        result = args.run(args)
        return int(result or 0)
    except GovshareError as exc:
        print(f"govshare: error: {exc.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `govshare audit export | head`: the reader has all it wanted
        # Python docs, "Note on SIGPIPE": point stdout at devnull so the exit flush is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govshare", description="Government data-sharing GraphQL gateway")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    _demo_parser(_command(commands, "demo", "build the demo departments and serve them", run_demo))
    serve = _command(commands, "serve", "serve the catalog in the data folder", run_serve)
    _serve_parser(serve)
    _workers_option(serve)
    token = _command(commands, "token", "print a bearer token for a department", run_token)
    token.add_argument("--department", required=True, help="the department's USCC (token sub)")
    token.add_argument("--roles", default="consumer", help="comma-separated: consumer,provider,operator")
    token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")
    _grant_parsers(commands)
    cli_profiles.add_parsers(commands, _command, _catalog_option)  # govshare onboard (Sanya art. 12)
    _audit_parsers(commands)
    _voucher_parsers(commands)
    _package_parsers(commands)
    _client_and_key_parsers(commands)
    cli_notices.add_parser(commands, _command)
    cli_db.add_parsers(commands, _command)  # govshare db upgrade | current | history | revision
    cli_backup.add_parsers(commands, _command)  # backup, restore (issue 12 section 2)
    _report_parser(commands)
    catalog = commands.add_parser("catalog", help="catalog tools").add_subparsers(
        required=True, metavar="ACTION"
    )
    check = _command(catalog, "check", "validate a catalog file or folder", run_catalog_check)
    check.add_argument("path", nargs="?", help="catalog file or folder (same as --catalog)")
    _catalog_option(check)
    check.add_argument(
        "--sources", action="store_true", help="also open each source and check its tables and columns"
    )
    cli_catalog.add_parsers(catalog, _command)  # import, export and the workflow (issue 11)
    return parser


def _catalog_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--catalog",
        default=None,
        help="catalog file or folder (default: GOVSHARE_CATALOG, else DATA/catalog.yaml)",
    )


def _command(
    commands: Any, name: str, help_text: str, run: Callable[[argparse.Namespace], Any]
) -> argparse.ArgumentParser:
    command: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
    command.add_argument(
        "--data",
        default=None,
        help="data folder (default: GOVSHARE_DATA or ~/.local/share/govshare)",
    )
    command.set_defaults(run=run)
    return command


def _serve_parser(command: argparse.ArgumentParser) -> None:
    _catalog_option(command)
    command.add_argument("--host", default=None, help="address (default 127.0.0.1)")
    command.add_argument("--port", type=int, default=None, help="port (default 8000; 0 picks a free one)")
    command.add_argument(
        "--cache-url", default=None, help="row cache: memory:// (default), redis://host:port/db or off"
    )


def _workers_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--workers", type=int, default=None,
        help="worker processes (default: GOVSHARE_WORKERS, else the number of cores); 1 = one process",
    )  # fmt: skip


def _demo_parser(command: argparse.ArgumentParser) -> None:
    _serve_parser(command)
    command.add_argument("--organizations", type=int, default=10_000, help="synthetic organizations")
    command.add_argument("--persons", type=int, default=10_000, help="synthetic persons")
    command.add_argument("--no-serve", action="store_true", help="build and print, do not serve")


def _grant_parsers(commands: Any) -> None:
    grant = commands.add_parser("grant", help="conditional-access grants").add_subparsers(
        required=True, metavar="ACTION"
    )
    add = _command(grant, "add", "grant a consumer conditional items of a resource", run_grant_add)
    add.add_argument("--consumer", required=True, help="consumer department USCC")
    add.add_argument("--resource", required=True, help="resource id, e.g. amr.enterprise_registration")
    add.add_argument("--items", required=True, help="comma-separated item names")
    add.add_argument(
        "--purpose", required=True, help="the purpose the grant is for (matched against X-Purpose)"
    )
    add.add_argument("--modes", default="query", help="comma-separated: query,compare,bulk")
    add.add_argument("--days", type=int, default=365, help="validity in days from now")
    add.add_argument(
        "--from",
        dest="valid_from",
        default=None,
        help="start, ISO date-time; no offset = China time (default now)",
    )
    add.add_argument(
        "--until", default=None, help="end, ISO date-time; no offset = China time (overrides --days)"
    )
    _catalog_option(add)
    _command(grant, "list", "list grants", run_grant_list)
    revoke = _command(grant, "revoke", "revoke a grant, effective at once", run_grant_revoke)
    revoke.add_argument("grant_id")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(**_flags(args))


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k, None) for k in ("data", "catalog", "host", "port", "cache_url")}


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _catalog(settings: Settings) -> Catalog:
    """The catalog the gateway of this data folder serves: the platform database's published
    catalog (the YAML imported on first start, gateway.catalog_store); the YAML file alone
    where no platform database exists yet."""
    try:
        _require_platform(settings)
    except ConfigurationError:
        return settings_catalog(settings)
    return asyncio.run(served_catalog(settings))


def _require_platform(settings: Settings) -> None:
    """Refuse to make a new SQLite platform database: it would be one no gateway reads."""
    url = make_url(settings.database_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or Path(database).exists():
        return
    raise ConfigurationError(
        f"no platform database at {database}: {settings.data_dir} is not the data folder of a "
        "gateway; pass --data DIR or set GOVSHARE_DATA to the folder `govshare serve` uses (or "
        "GOVSHARE_DATABASE_URL to its database); `govshare serve` or `govshare demo` creates it"
    )


def run_token(args: argparse.Namespace) -> None:
    settings = _settings(args)
    if args.ttl is not None and args.ttl < 1:  # the token would be born expired
        raise BadRequest(f"--ttl must be at least 1 second, got {args.ttl}")
    try:
        token = load_signer(settings.data_dir, create=False).issue(
            args.department, _split(args.roles), ttl=args.ttl or settings.token_ttl
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    print(token)


def run_catalog_check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.path:
        settings = dataclasses.replace(settings, catalog=Path(args.path))
    catalog = settings_catalog(settings)  # the file, as `govshare catalog import` would read it
    shared = sum(len(r.items) for r in catalog.resources.values())
    terms = load_profile(catalog.profile).own_terms()  # the profile's class terms (issue 10 section 1)
    print(f"ok: {len(catalog.departments)} departments, {len(catalog.resources)} resources, {shared} items "
          f"(profile {catalog.profile}: {terms})")  # fmt: skip
    if not args.sources:
        return 0
    from gateway.app import probe_catalog_sources

    states = asyncio.run(probe_catalog_sources(catalog, settings.data_dir))
    for state in states:
        print(json.dumps(state.as_json(), ensure_ascii=False))
    broken = [state for state in states if not state.ok]
    if broken:
        print(f"govshare: {len(broken)} of {len(states)} sources have problems (above)", file=sys.stderr)
        return 1
    print(f"ok: {len(states)} sources have their tables and columns")
    return 0


def run_grant_add(args: argparse.Namespace) -> None:
    settings = _settings(args)
    catalog = _catalog(settings)
    items, modes = _split(args.items), [_mode(m) for m in _split(args.modes)]
    check_grantable(catalog, args.resource, items, modes)
    start = _moment(args.valid_from, "--from") or utc_now()
    until = _moment(args.until, "--until") or _days_after(start, args.days)
    grant = asyncio.run(_with_platform(settings, lambda db: db.add_grant(new_grant_row(
        validate_uscc(args.consumer), args.resource, items, args.purpose, until, modes, start))))  # fmt: skip
    admin_audit(settings, "grant.add", grant.resource, _grant_json(grant))
    print(json.dumps(_grant_json(grant), ensure_ascii=False))


def _days_after(start: dt.datetime, days: int) -> dt.datetime:
    """``--days`` after ``start``; BadRequest when that leaves the range of instants."""
    try:
        return check_range(start + dt.timedelta(days=days), "--days")
    except OverflowError:
        raise BadRequest(f"--days {days} is too far: give at most a few thousand years") from None


def _moment(text: str | None, flag: str) -> dt.datetime | None:
    """``--from``/``--until`` as an aware UTC instant; without an offset it is China time."""
    return None if text is None else parse_instant(text, flag)


def _mode(text: str) -> Mode:
    try:
        return Mode(text)
    except ValueError:
        raise BadRequest(f"unknown mode {text!r}; use query, compare or bulk") from None


def run_grant_list(args: argparse.Namespace) -> None:
    for grant in asyncio.run(_with_platform(_settings(args), lambda db: db.all_grants())):
        print(json.dumps(_grant_json(grant), ensure_ascii=False))


def run_grant_revoke(args: argparse.Namespace) -> None:
    settings = _settings(args)
    grant = asyncio.run(_with_platform(settings, lambda db: db.revoke_grant(args.grant_id)))
    admin_audit(settings, "grant.revoke", grant.resource, {"grant": grant.id})
    print(json.dumps(_grant_json(grant), ensure_ascii=False))


def admin_audit(settings: Settings, action: str, resource: str | None, detail: dict[str, Any]) -> None:
    """Administrative actions go to the audit trail too (chain instance "cli")."""
    if not settings.audit:
        return
    from gateway.audit import AuditEvent, AuditLog

    async def append() -> None:
        async with AuditLog(settings.database_url, instance="cli") as log:
            resources = (resource,) if resource else ()
            await log.append(AuditEvent(kind="admin", outcome=action, resources=resources, detail=detail))

    asyncio.run(append())


def _grant_json(grant: Any) -> dict[str, Any]:
    return {
        "id": grant.id,
        "consumer": grant.consumer,
        "resource": grant.resource,
        "items": sorted(grant.items),
        "modes": sorted(m.value for m in grant.modes),
        "purpose": grant.purpose,
        "valid_from": grant.valid_from.isoformat(),
        "valid_until": grant.valid_until.isoformat(),
        "revoked": grant.revoked,
    }


async def _with_platform(settings: Settings, action: Callable[[PlatformDB], Any]) -> Any:
    _require_platform(settings)
    platform = PlatformDB(settings.database_url)
    try:
        await platform.create_schema(auto_upgrade=settings.db_auto_upgrade)
        return await action(platform)
    finally:
        await platform.close()


def default_workers(settings: Settings) -> int:
    """Workers of ``serve`` when neither ``--workers`` nor ``GOVSHARE_WORKERS`` says: the core
    count, on PostgreSQL and SQLite alike (issue 12). On SQLite the workers' audit commits
    take turns on the one writer (``gateway.sqlite_turn``) and each commit gathers what
    arrived while it waited: measured with ../shared/peers on 2 cores, two workers answered
    1,350 audited requests/s against one worker's 1,090 (the ``settings`` are those the
    choice may depend on; today it does not)."""
    return os.cpu_count() or 1


def run_serve(args: argparse.Namespace) -> None:
    workers = args.workers if args.workers is not None else os.environ.get("GOVSHARE_WORKERS")
    if workers is None:
        workers = default_workers(Settings.load(**_flags(args)))
    settings = Settings.load(workers=workers, **_flags(args))
    catalog = _catalog(settings)  # checked before anything is made: an empty folder says how to fix it
    asyncio.run(check_connectors(catalog, settings.data_dir))  # e.g. a department's SQLite file is missing
    before_serving(settings)  # gateway.workers: database unreachable, slots held...: one clear error
    sock = _bind(settings)
    print(
        f"govshare: serving {settings.catalog} at http://{settings.host}:{sock.getsockname()[1]}/graphql",
        flush=True,
    )
    if settings.workers > 1:
        serve_workers(settings, sock)  # gateway.workers: uvicorn's supervisor, one chain per worker
    else:
        _serve(settings, sock)


def run_demo(args: argparse.Namespace) -> None:
    settings = _settings(args)
    rest_sock = _rest_socket()  # HPF's REST API (gateway/demo_rest.py), on a free port
    rest_url = f"http://127.0.0.1:{rest_sock.getsockname()[1]}/"
    samples = demo.build_demo(settings.data_dir, args.organizations, args.persons, rest_url)
    grant = asyncio.run(demo.ensure_grant(settings))
    asyncio.run(approve_demo_consumers(settings))  # their applications approved (profile on_application)
    sock = _bind(settings)
    url = f"http://{settings.host}:{sock.getsockname()[1]}/graphql"
    info = {"url": url, "tokens": demo.demo_tokens(settings), "samples": samples, "grant": grant}
    (settings.data_dir / "demo.json").write_text(json.dumps(info, ensure_ascii=False, indent=2))
    _print_demo(settings, info)
    if args.no_serve:
        sock.close()
        rest_sock.close()
        return
    _serve(settings, sock, (demo_rest.demo_app(settings.data_dir), rest_sock))


def _rest_socket() -> socket.socket:
    # proto TCP: the standard asyncio loop sets TCP_NODELAY only then (uvloop always does)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


def _print_demo(settings: Settings, info: dict[str, Any]) -> None:
    code = info["samples"]["organizations"][0]
    print(
        f"govshare demo: {info['url']} (GraphiQL in a browser); details in {settings.data_dir / 'demo.json'}"
    )
    print(f"consumer token:\n  {info['tokens']['consumer']}\n")
    print(
        f"sample query (send with headers Authorization: Bearer <token> and X-Purpose: {demo.GRANT_PURPOSE}):"
    )
    print(demo.SAMPLE_ORGANIZATION_QUERY)
    print(f'variables: {{"code": "{code}"}}\n')
    print("the same as curl, as the consumer holding the demo grant (paste it as is into a shell):")
    print(demo_curl(info["url"], info["tokens"]["consumer_with_grant"], code))
    print('\ncompare / verify (match or mismatch, never the value; README "Compare"):')
    print(compare_curl(info["url"], info["tokens"]["consumer"], demo.sample_compare(settings.data_dir, code)))
    print(flush=True)


def demo_curl(url: str, token: str, code: str) -> str:
    """A shell command that runs the sample query: every argument quoted for POSIX shells
    (shlex), the token written out (no variable to set), the purpose as UTF-8 as curl sends it."""
    body = json.dumps(
        {"query": demo.SAMPLE_ORGANIZATION_QUERY, "variables": {"code": code}}, ensure_ascii=False
    )
    return shlex.join([
        "curl", "-s", url,
        "-H", "Content-Type: application/json",
        "-H", "Accept: application/graphql-response+json",
        "-H", f"Authorization: Bearer {token}",
        "-H", f"X-Purpose: {demo.GRANT_PURPOSE}",
        "-d", body,
    ])  # fmt: skip


def compare_curl(graphql_url: str, token: str, body: dict[str, Any]) -> str:
    """A shell command that sends ``body`` to ``POST /compare`` (quoted as ``demo_curl``)."""
    return shlex.join([
        "curl", "-s", graphql_url.removesuffix("/graphql") + "/compare",
        "-H", "Content-Type: application/json",
        "-H", f"Authorization: Bearer {token}",
        "-H", f"X-Purpose: {demo.GRANT_PURPOSE}",
        "-d", json.dumps(body, ensure_ascii=False),
    ])  # fmt: skip


def _bind(settings: Settings) -> socket.socket:
    """The serving address, bound (not listening). With several workers it is bound with
    ``SO_REUSEPORT`` so each worker can listen on its own socket of the same address
    (``gateway.workers.BalancedMultiprocess``); a port in use is refused first by a plain
    bind, so a second server does not silently share this one's port."""
    sock = _bind_plain(settings)
    if settings.workers <= 1:
        return sock
    address = sock.getsockname()[:2]  # --port 0: the free port just found
    sock.close()
    try:
        return reuse_port_socket(address)
    except OSError as exc:
        raise _cannot_listen(settings, exc) from exc


def _bind_plain(settings: Settings) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise _cannot_listen(settings, exc) from exc
    return sock


def _cannot_listen(settings: Settings, exc: OSError) -> ConfigurationError:
    where = f"{settings.host}:{settings.port}"
    return ConfigurationError(f"cannot listen on {where} ({exc.strerror}); pass --port (0 = any free)")


def _serve(settings: Settings, sock: socket.socket, beside: tuple[Any, socket.socket] | None = None) -> None:
    """Serve the gateway on ``sock``; ``beside`` is another app and its socket served along
    (the demo's REST department), started first and stopped last."""
    logs.configure(settings.log_level)

    async def run() -> None:
        if beside is not None:
            department = uvicorn.Server(uvicorn.Config(beside[0], log_level="warning", log_config=None))
            serving = asyncio.ensure_future(department.serve(sockets=[beside[1]]))
        try:
            await run_gateway()
        finally:
            if beside is not None:
                department.should_exit = True
                await serving

    async def run_gateway() -> None:
        gateway = await Gateway.start(settings)
        settle_heap()  # start-up state frozen out of the collector's walks (gateway.heap)
        config = uvicorn.Config(
            create_app(settings, gateway), log_level=settings.log_level, access_log=False, log_config=None,
            http=bounded_head_protocol(settings.limits),
        )  # fmt: skip
        try:
            async with serving_listener(settings, gateway.platform):  # GOVSHARE_METRICS_LISTEN
                await uvicorn.Server(config).serve(sockets=[sock])
        finally:
            await gateway.close()

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(run())


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows): the standard loop works too
        return None
    return uvloop.new_event_loop


def _voucher_parsers(commands: Any) -> None:
    vouchers = commands.add_parser("voucher", help="electronic vouchers (电子凭证)").add_subparsers(
        required=True, metavar="ACTION"
    )
    verify = _command(
        vouchers, "verify", "check a voucher offline against a saved response", run_voucher_verify
    )
    verify.add_argument("token", help="the voucher (extensions.voucher of the response)")
    verify.add_argument("--response", required=True, help="the response body as received (JSON file)")
    verify.add_argument(
        "--jwks", default=None, help="the gateway's JWKS (JSON file; default: the data folder's keys)"
    )


def run_voucher_verify(args: argparse.Namespace) -> int:
    from gateway.vouchers import verify_voucher

    response = _json_file(args.response, "--response")
    jwks = _json_file(args.jwks, "--jwks") if args.jwks else voucher_keys(_settings(args).data_dir)
    check = verify_voucher(args.token, response, jwks)
    if not check.ok:
        print(f"govshare: voucher refused: {check.reason}", file=sys.stderr)
        return 1
    print(json.dumps({"ok": True, **check.claims}, ensure_ascii=False))
    return 0


def _package_parsers(commands: Any) -> None:
    packages = commands.add_parser("package", help="offline exchange packages (离线交换)").add_subparsers(
        required=True, metavar="ACTION"
    )
    verify = _command(packages, "verify", "check an export package offline", run_package_verify)
    verify.add_argument("file", help="the package (ZIP) as downloaded with format=package")
    verify.add_argument(
        "--jwks", default=None, help="the gateway's JWKS (JSON file; default: the data folder's keys)"
    )


def run_package_verify(args: argparse.Namespace) -> int:
    """Exit 0 printing the manifest's summary, or 1 with one line per problem found."""
    from gateway.package import verify_package

    jwks = _json_file(args.jwks, "--jwks") if args.jwks else voucher_keys(_settings(args).data_dir)
    check = verify_package(args.file, jwks)
    if not check.ok:
        for problem in check.problems:
            print(f"govshare: package refused: {problem}", file=sys.stderr)
        return 1
    shown = ("resource", "items", "rows", "complete", "lastKey", "auditId", "consumer", "created")
    summary = {key: check.manifest.get(key) for key in shown}
    if "stopped" in check.manifest:  # e.g. daily_cap: a verified package, but not the whole export
        summary["stopped"] = check.manifest["stopped"]
    print(json.dumps({"ok": True, **summary}, ensure_ascii=False))
    return 0


def _json_file(path: str, flag: str) -> Any:
    try:
        return orjson.loads(Path(path).read_bytes())  # depth-limited: ValueError, not RecursionError
    except (OSError, ValueError) as exc:
        raise BadRequest(f"{flag} {path}: cannot read it as JSON ({exc})") from exc


def _audit_parsers(commands: Any) -> None:
    """``govshare audit verify`` (exit 1 naming the first broken event) and ``audit export``."""
    audit = commands.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        required=True, metavar="ACTION"
    )
    verify = _command(audit, "verify", "check every hash chain; name the first broken one", run_audit_verify)
    cli_backup.add_anchor_options(verify)  # --archives DIR [--jwks FILE]
    export = _command(audit, "export", "write audit events as NDJSON, oldest first", run_audit_export)
    export.add_argument(
        "--since", default=None, help="only events at or after this ISO date-time (no offset = China time)"
    )
    cli_backup.add_audit_parsers(audit, _command)  # archive, verify-archive


def run_audit_verify(args: argparse.Namespace) -> int:
    from gateway.audit import verify_chain

    settings = _settings(args)
    _require_platform(settings)
    result = asyncio.run(verify_chain(settings.database_url))
    if not result.ok:
        print(f"govshare: audit chain broken at {result.first_broken}: {result.reason}", file=sys.stderr)
        return 1
    anchors_ok, anchors_said = cli_backup.check_anchors(args, settings)
    if not anchors_ok:
        return 1
    print(f"ok: {result.checked} events verified" + (f"; {anchors_said}" if anchors_said else ""))
    return 0


def run_audit_export(args: argparse.Namespace) -> None:
    from gateway.audit import canonical_json, export_events

    async def export(url: str, since: dt.datetime | None) -> None:
        # aclosing: a write that fails (a closed pipe) closes the reader here, in the loop
        async with contextlib.aclosing(export_events(url, since=since)) as events:
            async for event in events:
                sys.stdout.write(canonical_json(event).decode() + "\n")

    settings = _settings(args)
    _require_platform(settings)
    asyncio.run(export(settings.database_url, _moment(args.since, "--since")))


def _client_and_key_parsers(commands: Any) -> None:
    """OAuth clients and signing keys (README, Authentication):

    govshare client create --department USCC --roles consumer,provider --name NAME
    govshare client list | disable CLIENT_ID
    govshare keys rotate [--keep SECONDS] | list
    """
    client = commands.add_parser("client", help="OAuth clients of departments").add_subparsers(
        required=True, metavar="ACTION"
    )
    create = _command(
        client, "create", "register an application system; prints its secret once", run_client_create
    )
    create.add_argument("--department", required=True, help="the department's USCC (its tokens' sub)")
    create.add_argument("--roles", required=True, help="comma-separated: consumer,provider,operator")
    create.add_argument("--name", required=True, help="the application system's name")
    _command(client, "list", "list clients (never their secrets)", run_client_list)
    disable = _command(
        client, "disable", "refuse the client new tokens, effective at once", run_client_disable
    )
    disable.add_argument("client_id")
    keys = commands.add_parser("keys", help="the gateway's signing keys").add_subparsers(
        required=True, metavar="ACTION"
    )
    rotate = _command(
        keys, "rotate", "sign with a new key; prune keys past their last token", run_keys_rotate
    )
    keep_help = "seconds a superseded key keeps verifying (default GOVSHARE_TOKEN_TTL)"
    rotate.add_argument("--keep", type=int, default=None, help=keep_help)
    _command(keys, "list", "list the signing keys, oldest first", run_keys_list)


def run_client_create(args: argparse.Namespace) -> None:
    from gateway.clients import ClientStore

    async def create(db: PlatformDB) -> Any:
        return await ClientStore(db).create(args.department, _split(args.roles), args.name)

    settings = _settings(args)
    client, secret = asyncio.run(_with_platform(settings, create))
    admin_audit(settings, "client.create", None, client.public())
    print(json.dumps({"client_id": client.client_id, "client_secret": secret}))
    print("govshare: store the client_secret now: it is not shown again", file=sys.stderr)


def run_client_list(args: argparse.Namespace) -> None:
    from gateway.clients import ClientStore

    for client in asyncio.run(_with_platform(_settings(args), lambda db: ClientStore(db).list())):
        print(json.dumps(client.public(), ensure_ascii=False))


def run_client_disable(args: argparse.Namespace) -> None:
    from gateway.clients import ClientStore

    settings = _settings(args)
    action = lambda db: ClientStore(db).disable(args.client_id)  # noqa: E731
    client = asyncio.run(_with_platform(settings, action))
    admin_audit(settings, "client.disable", None, client.public())
    print(json.dumps(client.public(), ensure_ascii=False))


def run_keys_rotate(args: argparse.Namespace) -> None:
    from gateway.auth import rotate_keys

    settings = _settings(args)
    keep = settings.token_ttl if args.keep is None else args.keep
    if keep < 0:
        raise BadRequest("--keep must not be negative")
    rotation = rotate_keys(settings.data_dir, keep)
    admin_audit(settings, "keys.rotate", None, {"current": rotation.current, "pruned": list(rotation.pruned)})
    print(json.dumps({"current": rotation.current, "kept": rotation.kept, "pruned": rotation.pruned}))


def run_keys_list(args: argparse.Namespace) -> None:
    from gateway.auth import key_summary

    for key in key_summary(_settings(args).data_dir):
        print(json.dumps(key))


def _report_parser(commands: Any) -> None:
    """``govshare report --year 2026``: the yearly evaluation per providing department."""
    report = _command(
        commands, "report", "write the yearly evaluation per department (Markdown, PDF)", run_report
    )
    report.add_argument("--year", type=int, required=True, help="the calendar year evaluated (China time)")
    report.add_argument("--department", default=None, help="one department's USCC (default: every provider)")
    report.add_argument("--out", default=None, help="output folder (default: DATA/reports)")
    _catalog_option(report)


def run_report(args: argparse.Namespace) -> None:
    from gateway.report import check_out, gather_reports, write_reports, year_bounds
    from gateway.report_render import find_cjk_font

    settings = _settings(args)
    _require_platform(settings)
    department = validate_uscc(args.department) if args.department else None
    font = find_cjk_font()  # first: a machine without one fails before any work, naming the package
    year_bounds(args.year)  # a year out of range is refused before the folder is made
    out = check_out(Path(args.out) if args.out else settings.data_dir / "reports")  # before any work
    reports = asyncio.run(gather_reports(settings, args.year, department))
    for path in write_reports(reports, out, font):
        print(path)


if __name__ == "__main__":
    sys.exit(main())
