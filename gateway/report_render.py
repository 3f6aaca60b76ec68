"""The yearly evaluation as documents: Markdown, a chart of calls per month (matplotlib) and
a PDF (fpdf2) with the same tables, in Chinese and English.

Libraries, not own code: matplotlib draws the chart (Agg backend, no display), fpdf2 lays
out the PDF and embeds a subset of a CJK font. The font is found at run time
(:func:`find_cjk_font`): ``GOVSHARE_CJK_FONT`` if set, else the first font fontconfig lists
for Chinese (``fc-list :lang=zh``), WenQuanYi Micro Hei first (the Debian package
``fonts-wqy-microhei`` that ``.ci/run`` installs); none is a ``ConfigurationError`` naming
the package to install.

The PDF has three pages per department: (1) the regulation, the evaluation figures, use and
authorizations; (2) calls per month, table and chart; (3) timeliness and catalog upkeep.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.fonts import FontFace

from errors import ConfigurationError
from policies.chinatime import CHINA_TIME

if TYPE_CHECKING:
    from gateway.report import DepartmentReport

FONT_ENV = "GOVSHARE_CJK_FONT"
FONT_PACKAGES = "fonts-wqy-microhei or fonts-noto-cjk"
PREFERRED_FONTS = ("wqy-microhei", "wqy-zenhei", "NotoSansCJK", "NotoSerifCJK")
UNKNOWN = "—"
PAGE_WIDTH_MM = 180
HEADING_FILL = (225, 225, 225)
TIMELINESS_WIDTHS = (36, 10, 10, 18, 18, 8)  # relative: resource ids are long


def find_cjk_font() -> Path:
    """A font file with Chinese glyphs (see the module docs); ConfigurationError if none."""
    configured = os.environ.get(FONT_ENV)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ConfigurationError(f"{FONT_ENV}={configured} is not a font file", env=FONT_ENV)
        return path
    found = _fontconfig_cjk_fonts()
    if not found:
        raise ConfigurationError(
            f"no font with Chinese glyphs on this machine (fc-list :lang=zh lists none): install "
            f"{FONT_PACKAGES} (e.g. apt-get install fonts-wqy-microhei), "
            f"or set {FONT_ENV} to a .ttf/.ttc file",
            env=FONT_ENV,
        )
    return min(found, key=_preference)


def _fontconfig_cjk_fonts() -> list[Path]:
    if shutil.which("fc-list") is None:
        return []
    listed = subprocess.run(
        ["fc-list", ":lang=zh", "--format", "%{file}\\n"], capture_output=True, text=True, timeout=30
    )
    return [Path(line) for line in listed.stdout.splitlines() if line.endswith((".ttf", ".ttc", ".otf"))]


def _preference(path: Path) -> tuple[int, str]:
    ranks = [i for i, name in enumerate(PREFERRED_FONTS) if name.lower() in path.name.lower()]
    return (ranks[0] if ranks else len(PREFERRED_FONTS), str(path))


# --- tables (shared by Markdown and PDF) ------------------------------------------------


def number(value: float | None, unit: str = "") -> str:
    """Counts as integers, shares (units starting "share") as percentages, None as a dash."""
    if value is None:
        return UNKNOWN
    if unit.startswith("share"):
        return f"{value * 100:.1f}%"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def title(report: DepartmentReport) -> str:
    return f"{report.year}年度政务信息资源共享评估 — {report.stats.department.name}"


def header_lines(report: DepartmentReport) -> list[str]:
    department, profile = report.stats.department, report.profile
    return [
        f"Department 部门: {department.name} ({department.code}), {department.level}, "
        f"region {department.region}",
        f"Regulation 依据: {profile.cite('statistics')}: {profile.oversight.evaluation.cadence}",
        f"Period 期间: {report.year}-01-01 to {report.year}-12-31 (China time)",
        f"Timeliness and catalog upkeep judged at 判定时间 {report.made_at:%Y-%m-%d %H:%M} UTC",
    ]


def figures_table(report: DepartmentReport) -> list[list[str]]:
    rows = [["figure", "term 条文用语", "value", "unit"]]
    for figure in report.stats.evaluation:
        rows.append([figure.figure, figure.term, number(figure.value, figure.unit), figure.unit])
    return rows


def use_table(report: DepartmentReport) -> list[list[str]]:
    stats = report.stats
    calls = sum(stats.calls_by_mode.values())
    return [
        ["resources", "calls", "distinct consumers", "refusals", "availability"],
        [str(stats.resources), str(calls), str(stats.distinct_consumers), str(stats.refusals),
         number(stats.availability, "share")],
    ]  # fmt: skip


def authorizations_table(report: DepartmentReport) -> list[list[str]]:
    auth = report.stats.authorizations
    return [
        ["decided", "approved", "refused", "avg working days", "p95 working days", "overdue"],
        [str(auth.count), str(auth.approved), str(auth.refused), number(auth.average_working_days),
         number(auth.p95_working_days), str(auth.overdue)],
    ]  # fmt: skip


def months_table(report: DepartmentReport) -> list[list[str]]:
    modes = list(report.months[0].by_mode) if report.months else []
    rows = [["month", *(mode.value for mode in modes), "total"]]
    for month in report.months:
        counts = [str(month.by_mode[mode]) for mode in modes]
        rows.append([f"{report.year}-{month.month:02d}", *counts, str(month.total)])
    totals = [str(sum(m.by_mode[mode] for m in report.months)) for mode in modes]
    rows.append(["total", *totals, str(sum(m.total for m in report.months))])
    return rows


def timeliness_table(report: DepartmentReport) -> list[list[str]]:
    rows = [["resource", "cycle", "rule", "last update (China time)", "due by", "on time"]]
    for t in report.stats.timeliness:
        on_time = UNKNOWN if t.on_time is None else ("yes" if t.on_time else "LATE")
        rows.append([t.resource, t.update_cycle, t.rule, _moment(t.last_update), _moment(t.due_by), on_time])
    return rows


def upkeep_lines(report: DepartmentReport) -> list[str]:
    stats, profile = report.stats, report.profile
    if stats.catalog_reviewed is None:
        return [f"{profile.cite('catalog_update')}: the regulation sets no yearly catalog upkeep."]
    return [
        f"{profile.cite('catalog_update')}: every catalog entry maintained within "
        f"{profile.oversight.catalog_review_months} months.",
        f"Maintained in time 按时维护: {stats.catalog_reviewed}; overdue 逾期: {stats.catalog_overdue}.",
    ]


def _moment(value: dt.datetime | None) -> str:
    """China time, to the minute."""
    return UNKNOWN if value is None else f"{value.astimezone(CHINA_TIME):%Y-%m-%d %H:%M}"


# --- Markdown -----------------------------------------------------------------------------


def markdown_table(rows: Sequence[Sequence[str]]) -> str:
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in body])


def render_markdown(report: DepartmentReport, chart_name: str) -> str:
    """The document as Markdown; the chart is referenced by file name (written beside it)."""
    profile = report.profile
    parts = [
        f"# {title(report)}",
        "\n".join(f"- {line}" for line in header_lines(report)),
        f"## Evaluation figures 评估指标 ({profile.cite('statistics')})",
        markdown_table(figures_table(report)),
        "## Use 使用情况",
        markdown_table(use_table(report)),
        "## Authorizations 授权办理",
        markdown_table(authorizations_table(report)),
        "## Calls per month 每月调用",
        markdown_table(months_table(report)),
        f"![Calls per month]({chart_name})",
        f"## Timeliness 更新时效 ({profile.cite('update')})",
        markdown_table(timeliness_table(report)),
        "## Catalog upkeep 目录维护",
        "\n".join(upkeep_lines(report)),
    ]
    return "\n\n".join(parts) + "\n"


# --- chart --------------------------------------------------------------------------------


def calls_chart(report: DepartmentReport, font: Path) -> bytes:
    """A stacked bar chart of calls per month by mode, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    chinese = font_manager.FontProperties(fname=str(font))
    months = [f"{m.month}月" for m in report.months]
    figure, axes = plt.subplots(figsize=(8, 3.6), dpi=100)
    try:
        bottom = [0] * len(report.months)
        for mode in report.months[0].by_mode:
            heights = [m.by_mode[mode] for m in report.months]
            axes.bar(months, heights, bottom=bottom, label=mode.value)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axes.set_title(f"{report.year} 每月调用 calls per month", fontproperties=chinese)
        axes.set_ylabel("calls")
        axes.set_ylim(0, max(1, *bottom) * 1.1)  # an empty year still has a readable axis
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        for label in axes.get_xticklabels():
            label.set_fontproperties(chinese)
        axes.legend()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(figure)


# --- PDF ----------------------------------------------------------------------------------


def render_pdf(report: DepartmentReport, chart: Path, font: Path) -> bytes:
    """The document as PDF bytes: three A4 pages (module docs), the CJK font embedded."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("cjk", "", str(font))  # parsing a CJK font costs about a second: one face only
    pdf.set_title(title(report))
    profile = report.profile
    _page(pdf, title(report), header_lines(report))
    _section(pdf, f"Evaluation figures 评估指标 ({profile.cite('statistics')})", figures_table(report))
    _section(pdf, "Use 使用情况", use_table(report))
    _section(pdf, "Authorizations 授权办理", authorizations_table(report))
    _page(pdf, "Calls per month 每月调用", [])
    _section(pdf, "", months_table(report))
    pdf.image(str(chart), w=PAGE_WIDTH_MM)
    _page(pdf, f"Timeliness 更新时效 ({profile.cite('update')})", [])
    _section(pdf, "", timeliness_table(report), widths=TIMELINESS_WIDTHS)
    _page(pdf, "Catalog upkeep 目录维护", upkeep_lines(report), new_page=False)
    return bytes(pdf.output())


def _page(pdf: FPDF, heading: str, lines: Sequence[str], *, new_page: bool = True) -> None:
    if new_page:
        pdf.add_page()
    pdf.set_font("cjk", size=14)
    pdf.multi_cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for line in lines:
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _section(
    pdf: FPDF, heading: str, rows: Sequence[Sequence[str]], widths: tuple[int, ...] | None = None
) -> None:
    if heading:
        pdf.set_font("cjk", size=11)
        pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    plain = FontFace(emphasis="", fill_color=HEADING_FILL)  # headings: the regular face, shaded, not bold
    with pdf.table(text_align="LEFT", line_height=5, headings_style=plain, col_widths=widths) as table:
        for row in rows:
            table.row(list(row))
    pdf.ln(4)
