"""``govshare report --year Y``: the yearly evaluation (年度评估) of each providing department,
as its regulation's evaluation article reads it (Sanya art. 27, Hubei art. 26, Shanghai
art. 22, Zhejiang art. 35, Zhengzhou art. 31; the figures are the profile's
``oversight.evaluation``), written as Markdown and PDF (``gateway.report_render``).

This module gathers: the ``stats`` figures of the year (``gateway.stats.Statistics``, the
same counting as the GraphQL query, read as an operator) and the calls per China month from
the audit log's usage aggregates (twelve reads of whole months: no scan of the trail).
Timeliness and catalog upkeep are judged at the time the report is made (the sources'
current change stamps and, for realtime resources, the change notices: the same stores the
server reads), which the document says.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from errors import BadRequest
from gateway.app import bind_sources, open_connectors, served_catalog, workday_calendar
from gateway.audit import AuditLog, load_secret
from gateway.changes import ChangeNotices
from gateway.objections import Objections
from gateway.oversight import Oversight
from gateway.platform import PlatformDB
from gateway.settings import Settings
from gateway.stats import MODES, DepartmentStats, Statistics
from gateway.workflow import Workflow
from policies.catalog import Catalog
from policies.chinatime import CHINA_TIME, utc_now
from policies.decision import Consumer
from policies.objections import notice_limit, objection_limit
from policies.profile import Profile, load_profile
from policies.share import Mode

REPORT_CLIENT = "govshare report"
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class MonthCalls:
    """Data events touching the department's resources in one China month, by mode."""

    month: int  # 1-12
    by_mode: dict[Mode, int]

    @property
    def total(self) -> int:
        return sum(self.by_mode.values())


@dataclass(frozen=True)
class DepartmentReport:
    """Everything one department's yearly document shows."""

    year: int
    profile: Profile
    stats: DepartmentStats
    months: tuple[MonthCalls, ...]
    made_at: dt.datetime  # when the report was made (timeliness is judged then)


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """[1 January, next 1 January) of ``year`` in China time; BadRequest outside 2000-2100."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadRequest(f"--year must be from {FIRST_YEAR} to {LAST_YEAR}, got {year}", year=year)
    return month_start(year, 1), month_start(year + 1, 1)


def month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=CHINA_TIME)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """[first day of the month, first day of the next) in China time."""
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return month_start(year, month), month_start(*following)


def providing_departments(catalog: Catalog, department: str | None) -> list[str]:
    """The departments with at least one resource, or the one named (BadRequest if unknown)."""
    if department is not None:
        if department not in catalog.departments:
            raise BadRequest(
                f"no department {department!r} in the catalog; omit --department for every providing one",
                department=department,
            )
        if not any(resource.provider == department for resource in catalog.resources.values()):
            raise BadRequest(
                f"department {department} provides no resource: the evaluation is of providing "
                "departments; omit --department for every one",
                department=department,
            )
        return [department]
    providers = {resource.provider for resource in catalog.resources.values()}
    return [code for code in catalog.departments if code in providers]


async def monthly_calls(audit: AuditLog, year: int, department: str) -> tuple[MonthCalls, ...]:
    """Calls per China month of ``year`` on ``department``'s resources, by mode."""
    months = []
    for month in range(1, 13):
        since, until = month_bounds(year, month)
        counts: Counter[Mode] = Counter()
        for count in await audit.usage(since, until, {department}):
            counts[count.mode] += count.calls
        months.append(MonthCalls(month, {mode: counts[mode] for mode in MODES}))
    return tuple(months)


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[tuple[Catalog, Statistics, AuditLog, Profile]]:
    """The catalog, statistics service and audit log of a data folder, closed afterwards."""
    catalog = await served_catalog(settings)  # the stored catalog (gateway.catalog_store)
    profile = load_profile(catalog.profile)
    connectors = open_connectors(catalog, settings.data_dir)
    platform = PlatformDB(settings.database_url)
    owners = {rid: resource.provider for rid, resource in catalog.resources.items()}
    audit = AuditLog(settings.database_url, instance="report", secret=load_secret(settings.data_dir),
                     owners=owners)  # fmt: skip
    oversight: Oversight | None = None
    try:
        await platform.create_schema()
        await audit.start()
        sources = bind_sources(catalog, connectors)
        workflow = Workflow(platform, catalog, profile, workday_calendar(settings))
        changes = ChangeNotices(
            platform, catalog, workflow.calendar, notice_limit(profile, settings.notice_days)
        )
        oversight = Oversight(catalog, sources, profile, workflow.calendar, notices=changes)  # as the server
        statistics = Statistics(catalog, sources, audit, workflow, oversight=oversight)
        statistics.changes = changes  # notified and late changes (Shanghai art. 16), as `stats` counts them
        statistics.objections = Objections(
            platform, catalog, workflow.calendar, objection_limit(profile, settings.objection_days)
        )
        yield catalog, statistics, audit, profile
    finally:
        if oversight is not None:
            await oversight.close()
        await audit.close()
        for connector in connectors.values():
            await connector.close()
        await platform.close()


async def gather_reports(settings: Settings, year: int, department: str | None) -> list[DepartmentReport]:
    """One report per providing department (or the one named) for ``year``."""
    since, until = year_bounds(year)
    async with opened(settings) as (catalog, statistics, audit, profile):
        operator = Consumer(department="", client_id=REPORT_CLIENT, roles=frozenset({"operator"}))
        reports = []
        for code in providing_departments(catalog, department):
            (stats,) = await statistics.department_stats(operator, since=since, until=until, department=code)
            months = await monthly_calls(audit, year, code)
            reports.append(DepartmentReport(year, profile, stats, months, utc_now()))
        return reports


def report_paths(out: Path, report: DepartmentReport) -> tuple[Path, Path, Path]:
    """``<out>/evaluation-<year>-<USCC>.md``, ``.pdf`` and the chart ``.png``."""
    stem = out / f"evaluation-{report.year}-{report.stats.department.code}"
    return stem.with_suffix(".md"), stem.with_suffix(".pdf"), stem.with_suffix(".png")


def check_out(out: Path) -> Path:
    """Refuse an output folder that cannot be made before any work, creating nothing:
    BadRequest naming ``--out`` when it or its nearest existing parent is not a folder one
    may write to."""
    existing = next(p for p in (out, *out.parents) if p.exists() or p == p.parent)
    if not existing.is_dir():
        where = "is" if existing == out else f"lies inside {existing}, which is"
        raise BadRequest(f"--out {out} {where} a file, not a folder: name a folder", out=str(out))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise BadRequest(
            f"--out {out}: {existing} is not writable; name a folder you may write to", out=str(out)
        )
    return out


def write_reports(reports: Sequence[DepartmentReport], out: Path, font: Path) -> list[Path]:
    """Write each report's Markdown, chart and PDF into ``out`` with the CJK ``font``
    (``gateway.report_render.find_cjk_font``); the paths written. Every file is first written
    into a temporary folder inside ``out`` and moved into place only when all are: a failure
    (disk full, a rendering error) leaves nothing of this run and earlier files whole; an
    OSError is a BadRequest naming ``out`` and the cause."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out, prefix=".report-") as staging:
            staged = [path for report in reports for path in _write_one(report, Path(staging), font)]
            for path in staged:
                os.replace(path, out / path.name)
    except OSError as exc:
        raise BadRequest(
            f"could not write the reports into --out {out}: {exc.strerror or exc}", out=str(out)
        ) from None
    return [out / path.name for path in staged]


def _write_one(report: DepartmentReport, folder: Path, font: Path) -> tuple[Path, Path, Path]:
    from gateway.report_render import calls_chart, render_markdown, render_pdf

    markdown, pdf, png = report_paths(folder, report)
    png.write_bytes(calls_chart(report, font))
    markdown.write_text(render_markdown(report, png.name), encoding="utf-8")
    pdf.write_bytes(render_pdf(report, png, font))
    return markdown, pdf, png
