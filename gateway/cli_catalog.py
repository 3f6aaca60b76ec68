"""``govshare catalog ...``: the stored catalog on the command line (issue 11 §1-2).

    govshare catalog import PATH                  # a YAML file or folder becomes the published version
    govshare catalog export [PATH]                # the published catalog as YAML (stdout without PATH)
    govshare catalog entries [--resource ID] [--state STATE]
    govshare catalog history RESOURCE [--item NAME]
    govshare catalog draft FILE --department USCC [--reason TEXT]     # a provider's draft (one resource)
    govshare catalog submit RESOURCE --department USCC
    govshare catalog review RESOURCE [--item NAME] (--approve | --return) [--reason TEXT ...]
    govshare catalog publish RESOURCE
    govshare catalog withdraw RESOURCE [--item NAME] --reason TEXT [--department USCC]

The commands act on the platform database of ``--data`` as the GraphQL mutations do
(``draftCatalogResource`` ...), under the same rules (``policies.catalog_workflow``):
``--department`` acts as that providing department, otherwise as the operator. Gateways
already running (every worker and host on the same platform database) serve what the CLI
publishes, withdraws or imports from their next request (gateway.catalog_follow); the CLI
rebuilds the search index itself. ``review`` prints, with the verdict, the ``impact`` of
publishing the resource's pending changes (grants, applications and consumers a breaking
change touches). Errors exit 2 naming the file, path or argument; an invalid catalog lists
every problem.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from errors import BadRequest, CatalogError
from gateway.catalog_notices import told_on_publish
from gateway.catalog_search import CatalogSearch
from gateway.catalog_store import CatalogStore, EntryView, EventView, OnPublish
from gateway.platform import PlatformDB
from policies.catalog import Catalog
from policies.catalog_workflow import EntryState
from policies.codes import validate_uscc
from policies.decision import Consumer
from policies.workflow import Actor
from policies.yamlfiles import StrictTextDatesLoader

Command = Callable[[Any, str, str, Callable[[argparse.Namespace], Any]], argparse.ArgumentParser]


def add_parsers(actions: Any, command: Command) -> None:
    """The ``catalog`` actions beside ``check``."""
    imported = command(actions, "import", "make a YAML catalog the published version", run_import)
    imported.add_argument("path", help="catalog file or folder")
    exported = command(actions, "export", "write the published catalog as YAML", run_export)
    exported.add_argument("path", nargs="?", help="file to write (default: standard output)")
    entries = command(actions, "entries", "list the register's entries and states", run_entries)
    entries.add_argument("--resource", default=None)
    entries.add_argument("--state", default=None, choices=[s.value for s in EntryState])
    history = command(actions, "history", "every step of a resource's entries", run_history)
    _entry_arguments(history)
    draft = command(actions, "draft", "draft a resource (a provider's new entry or change)", run_draft)
    draft.add_argument("file", help="YAML: one resource as in the catalog (id, provider, items ...)")
    draft.add_argument("--department", required=True, help="the providing department's USCC")
    draft.add_argument("--reason", default="", help="why (kept in the history)")
    submit = command(actions, "submit", "submit a resource's drafts for review", run_submit)
    submit.add_argument("resource")
    submit.add_argument("--department", required=True, help="the providing department's USCC")
    review = command(actions, "review", "approve or return one submitted entry", run_review)
    _entry_arguments(review)
    verdict = review.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--approve", action="store_true")
    verdict.add_argument("--return", dest="returned", action="store_true")
    review.add_argument("--reason", action="append", default=[], help="reasons (needed to return)")
    publish = command(actions, "publish", "publish a resource's approved entries", run_publish)
    publish.add_argument("resource")
    withdraw = command(actions, "withdraw", "take an entry out of the catalog at once", run_withdraw)
    _entry_arguments(withdraw)
    withdraw.add_argument("--reason", action="append", required=True, help="why")
    withdraw.add_argument("--department", default=None, help="act as this providing department")


def _entry_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resource")
    parser.add_argument("--item", default=None, help="an item's name (default: the resource's own fields)")


def run_import(args: argparse.Namespace) -> None:
    path = Path(args.path)
    result = _with_store(args, lambda store, actor: _imported(store, path, actor))
    summary = {"published": result.published, "withdrawn": result.withdrawn, "unchanged": result.unchanged}
    _audit(args, "catalog.import", {"source": str(path), **summary})
    print(json.dumps({"ok": True, "resources": len(result.catalog.resources), **summary}))


async def _imported(store: CatalogStore, path: Path, actor: Actor) -> Any:
    """Import, then rebuild the search index as a publication does (``on_publish``): the
    running gateways follow the new catalog (gateway.catalog_follow), not rebuilding it."""
    result = await store.import_catalog(path, actor)
    if store.on_publish is not None:
        await store.on_publish(result.catalog)
    return result


def run_export(args: argparse.Namespace) -> None:
    data = _with_store(args, lambda store, actor: store.export_yaml())
    if args.path is None:
        sys.stdout.buffer.write(data)
        return
    Path(args.path).write_bytes(data)


def run_entries(args: argparse.Namespace) -> None:
    state = EntryState(args.state) if args.state else None
    for entry in _with_store(args, lambda store, actor: store.entries(actor.consumer, args.resource, state)):
        print(json.dumps(entry_json(entry), ensure_ascii=False))


def run_history(args: argparse.Namespace) -> None:
    for step in _with_store(
        args, lambda store, actor: store.history(actor.consumer, args.resource, args.item)
    ):
        print(json.dumps(event_json(step), ensure_ascii=False))


def run_draft(args: argparse.Namespace) -> None:
    path = Path(args.file)  # read once the data folder is known to be a gateway's
    drafted = _with_store(args, lambda store, actor: store.draft(actor, _resource_file(path), args.reason))
    for entry in drafted:
        print(json.dumps(entry_json(entry), ensure_ascii=False))


def run_submit(args: argparse.Namespace) -> None:
    for entry in _with_store(args, lambda store, actor: store.submit(actor, args.resource)):
        print(json.dumps(entry_json(entry), ensure_ascii=False))


def run_review(args: argparse.Namespace) -> None:
    """The verdict on one entry, printed with ``impact``: what publishing the resource's
    pending changes would break (grants, applications, consumers to notify), before publication."""

    async def action(store: CatalogStore, actor: Actor) -> dict[str, Any]:
        entry = await store.review(actor, args.resource, args.item, args.approve, args.reason)
        try:  # the verdict is stored: a pending change that does not validate is shown, not fatal
            found: dict[str, Any] = (await store.impact(actor.consumer, args.resource)).as_json()
        except BadRequest as refused:
            found = {"error": refused.message}
        return {**entry_json(entry), "impact": found}

    print(json.dumps(_with_store(args, action), ensure_ascii=False))


def run_publish(args: argparse.Namespace) -> None:
    catalog = _with_store(args, lambda store, actor: store.publish(actor, args.resource))
    _audit(args, "catalog.publish", {"resource": args.resource})
    print(json.dumps({"ok": True, "resource": args.resource, "resources": len(catalog.resources)}))


def run_withdraw(args: argparse.Namespace) -> None:
    action = lambda store, actor: store.withdraw(actor, args.resource, args.item, args.reason)  # noqa: E731
    for entry in _with_store(args, action):
        print(json.dumps(entry_json(entry), ensure_ascii=False))
    _audit(args, "catalog.withdraw", {"resource": args.resource, "item": args.item})


def _actor(args: argparse.Namespace) -> Actor:
    """The provider named by ``--department``, else the operator at the command line."""
    department = getattr(args, "department", None)
    if department:
        return Actor(Consumer(validate_uscc(department), "cli", frozenset({"provider"})))
    return Actor(Consumer("cli", "cli", frozenset({"operator"})))


def _with_store(args: argparse.Namespace, action: Callable[[CatalogStore, Actor], Any]) -> Any:
    from gateway import cli  # the shared helpers: settings, platform checks
    from gateway.app import standalone_source_check

    settings = cli._settings(args)
    cli._require_platform(settings)
    actor = _actor(args)

    async def run(platform: PlatformDB) -> Any:
        published = await _published(platform)
        audit_url = settings.database_url if settings.audit else None
        store = CatalogStore(platform, on_publish=_on_publish(platform, audit_url, published))
        store.check_source = standalone_source_check(settings.data_dir)  # as the served schema binds
        if published is not None:
            store.use_profile(published.profile)
        return await action(store, actor)

    return asyncio.run(cli._with_platform(settings, run))


async def _published(platform: PlatformDB) -> Catalog | None:
    store = CatalogStore(platform)
    return await store.published_catalog() if await store.has_catalog() else None


def _on_publish(platform: PlatformDB, audit_url: str | None, published: Catalog | None) -> OnPublish:
    """A publication from the command line rebuilds the search index and tells the consumers
    its breaking changes touch, as a serving gateway's swap does (gateway.catalog_notices):
    the gateways that follow it tell nobody."""
    index, told = CatalogSearch(platform.engine).index, told_on_publish(platform, audit_url, published)

    async def on_publish(catalog: Catalog) -> None:
        await index(catalog)
        await told(catalog)

    return on_publish


def _audit(args: argparse.Namespace, action: str, detail: dict[str, Any]) -> None:
    from gateway import cli

    cli.admin_audit(cli._settings(args), action, detail.get("resource"), detail)


def _resource_file(path: Path) -> Mapping[str, Any]:
    """One resource from a YAML file: the mapping itself, or a catalog-shaped file with one
    entry under ``resources:``. CatalogError naming the file otherwise."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=StrictTextDatesLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(str(path), "(file)", f"cannot be read as YAML: {exc}", "fix the file") from exc
    if isinstance(data, Mapping) and isinstance(data.get("resources"), list) and len(data["resources"]) == 1:
        data = data["resources"][0]
    if not isinstance(data, Mapping):
        raise CatalogError(str(path), "(top)", "must be one resource", "write the resource's keys (id, ...)")
    return data


def entry_json(entry: EntryView) -> dict[str, Any]:
    """An entry as the CLI prints it (JSON; dates ISO 8601)."""
    return {key: _plain(value) for key, value in dataclasses.asdict(entry).items()}


def event_json(event: EventView) -> dict[str, Any]:
    return {key: _plain(value) for key, value in dataclasses.asdict(event).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, EntryState):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value
