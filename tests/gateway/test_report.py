"""``govshare report --year 2026`` (issue 10 section 4): the yearly evaluation per department,
Markdown and PDF, over the demo departments and data events seeded into the real audit log at
known times (tests/gateway/data/report_events.yaml). The Markdown tables' numbers are checked
against those events counted per China month here; the PDF is read back with pypdf (pages,
text, the chart image). Bad input (a year out of range, an unknown department, a font that is
not there) is a clear error and writes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml

from errors import ConfigurationError
from gateway import cli, demo
from gateway.audit import AuditEvent, AuditLog, load_secret
from gateway.report import gather_reports
from gateway.report_render import find_cjk_font, render_markdown
from gateway.settings import Settings
from policies.catalog import load_catalog
from policies.chinatime import CHINA_TIME
from tests.conftest import run_cli

EVENTS = yaml.safe_load((Path(__file__).parent / "data" / "report_events.yaml").read_text(encoding="utf-8"))
KINDS = {"query": "query", "compare": "compare", "bulk": "export"}
YEAR = 2026


def seed(data: Path) -> None:
    """Write the events into the data folder's audit log, each at its own time."""
    settings = Settings.load({}, data=str(data))
    catalog = load_catalog(settings.catalog)
    owners = {rid: resource.provider for rid, resource in catalog.resources.items()}
    moment = [dt.datetime.now(dt.UTC)]

    async def write() -> None:
        async with AuditLog(settings.database_url, instance="seed", secret=load_secret(data),
                            clock=lambda: moment[0], owners=owners) as audit:  # fmt: skip
            for event in EVENTS["events"]:
                moment[0] = dt.datetime.fromisoformat(event["time"]).astimezone(dt.UTC)
                for _ in range(event["count"]):
                    await audit.append(AuditEvent(
                        kind=KINDS[event["mode"]], outcome="answered", consumer=demo.HOUSING.code,
                        mode=event["mode"], resources=(event["resource"],),
                        decisions={f"{event['resource']}.name": "ALLOWED"},
                    ))  # fmt: skip

    asyncio.run(write())


def expected_months(resource: str) -> dict[str, Counter[str]]:
    """'2026-MM' -> calls by mode, from the seeded events of ``resource`` in 2026 (China time)."""
    months: dict[str, Counter[str]] = {f"{YEAR}-{m:02d}": Counter() for m in range(1, 13)}
    for event in EVENTS["events"]:
        china = dt.datetime.fromisoformat(event["time"]).astimezone(CHINA_TIME)
        if event["resource"] == resource and china.year == YEAR:
            months[f"{china:%Y-%m}"][event["mode"]] += event["count"]
    return months


def needs_cjk_font() -> None:
    """A report needs a font with Chinese glyphs: skipped on a machine without one (README's
    Quickstart runs anywhere), but a failure under CI, whose .ci/run installs one."""
    try:
        find_cjk_font()
    except ConfigurationError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must render reports: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needs_cjk_font()
    data = tmp_path_factory.mktemp("report")
    run_cli(data, "demo", "--no-serve", "--port", "0", "--organizations", "20", "--persons", "10")
    seed(data)
    result = run_cli(data, "report", "--year", str(YEAR), "--out", str(data / "out"))
    written = result.stdout.split()
    catalog = load_catalog(data / "catalog.yaml")
    providers = {resource.provider for resource in catalog.resources.values()}
    assert len(written) == 3 * len(providers)  # md, pdf, png for each providing department, no other
    assert all(Path(path).is_file() for path in written)
    return data / "out"


def first_table(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def document(out: Path, department: demo.DemoDepartment, suffix: str) -> Path:
    return out / f"evaluation-{YEAR}-{department.code}{suffix}"


@pytest.mark.parametrize(("department", "resource"), [(demo.AMR, "amr.enterprise_registration"),
                                                      (demo.TAX, "tax.tax_credit")])  # fmt: skip
def test_calls_per_month_match_the_seeded_events(reported: Path, department: Any, resource: str) -> None:
    markdown = document(reported, department, ".md").read_text(encoding="utf-8")
    head, *rows = first_table(markdown, "Calls per month 每月调用")
    assert head == ["month", "query", "compare", "bulk", "total"]
    expected = expected_months(resource)
    found = {row[0]: row[1:] for row in rows}
    for month, counts in expected.items():
        modes = [counts["query"], counts["compare"], counts["bulk"]]
        assert found[month] == [str(n) for n in [*modes, sum(modes)]], month
    total = sum(sum(counts.values()) for counts in expected.values())
    assert found["total"][-1] == str(total)
    (use_head, use_row) = first_table(markdown, "Use 使用情况")
    assert dict(zip(use_head, use_row, strict=True))["calls"] == str(total)
    figures = {row[0]: row for row in first_table(markdown, "Evaluation figures 评估指标")[1:]}
    assert figures["use"][1:3] == ["数据调用", str(total)]  # Hubei art. 26's own term
    assert f"![Calls per month](evaluation-{YEAR}-{department.code}.png)" in markdown


def test_the_markdown_cites_the_evaluation_article_and_the_update_limit(reported: Path) -> None:
    markdown = document(reported, demo.AMR, ".md").read_text(encoding="utf-8")
    assert markdown.startswith(f"# {YEAR}年度政务信息资源共享评估 — {demo.AMR.name}")
    assert "《湖北省政务信息资源共享管理办法》 art. 26" in markdown
    assert "## Timeliness 更新时效 (《湖北省政务信息资源共享管理办法》 art. 17)" in markdown
    _, *rows = first_table(markdown, "Timeliness 更新时效")
    assert [row[0] for row in rows] == ["amr.enterprise_registration"] and rows[0][2] == "cycle"
    assert [row[0] for row in first_table(markdown, "Evaluation figures 评估指标")[1:]] == [
        "authorizations", "use", "availability"
    ]  # fmt: skip


def test_the_pdf_has_three_pages_the_text_and_the_chart(reported: Path) -> None:
    pdf = document(reported, demo.AMR, ".pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    reader = pypdf.PdfReader(pdf)
    assert len(reader.pages) == 3
    first, second, third = (page.extract_text() for page in reader.pages)
    assert demo.AMR.name in first and "art. 26" in first and "授权办理" in first
    total = sum(sum(c.values()) for c in expected_months("amr.enterprise_registration").values())
    assert re.search(rf"total\s+\d+\s+\d+\s+\d+\s+{total}\b", second), second
    assert [len(page.images) for page in reader.pages] == [0, 1, 0]  # the chart, on the months page
    (chart,) = reader.pages[1].images
    assert chart.image is not None and chart.image.width > 300
    unwrapped = "".join(third.split())  # table cells wrap long ids
    assert "amr.enterprise_registration" in unwrapped and "art.17" in unwrapped and "LATE" in third


def test_zhejiang_names_its_own_figures(tmp_path: Path) -> None:
    """The same data under the zhejiang profile: art. 35's figures and terms, yearly upkeep."""
    needs_cjk_font()
    run_cli(tmp_path, "demo", "--no-serve", "--port", "0", "--organizations", "20", "--persons", "10")
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(catalog.read_text(encoding="utf-8").replace("profile: hubei\n", "profile: zhejiang\n"),
                       encoding="utf-8")  # fmt: skip
    settings = Settings.load({}, data=str(tmp_path))
    (report,) = asyncio.run(gather_reports(settings, YEAR, demo.AMR.code))
    markdown = render_markdown(report, "chart.png")
    figures = first_table(markdown, "Evaluation figures 评估指标")[1:]
    assert [(row[0], row[1]) for row in figures] == [
        ("quantity", "提供信息的数量"), ("timeliness", "更新时效"), ("use", "使用情况")
    ]  # fmt: skip
    assert figures[0][2] == "1"  # one resource provided
    assert "《浙江政务服务网信息资源共享管理暂行办法》 art. 35" in markdown
    assert "Maintained in time 按时维护: 0; overdue 逾期: 1." in markdown  # published 2024-01-01


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "1999"], "--year must be from 2000 to 2100, got 1999"),
        (["--year", "2026", "--department", "91420102MA0000007X"], "USCC"),
        (["--year", "2026", "--department", demo.HOUSING.code], "provides no resource"),
        (["--year", "2026", "--department", "91420102MA0000007H"], "no department '91420102MA0000007H'"),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    reported: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """In process (the same ``main`` as the command; a child process costs seconds of imports)."""
    data, out = reported.parent, reported.parent / "refused"
    assert cli.main(["report", *args, "--out", str(out), "--data", str(data)]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert not out.exists()


def test_a_missing_font_is_named_before_any_work_and_nothing_is_written(
    reported: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = reported.parent, reported.parent / "no-font"
    monkeypatch.setenv("GOVSHARE_CJK_FONT", str(data / "missing.ttf"))
    assert cli.main(["report", "--year", "2026", "--out", str(out), "--data", str(data)]) == 2
    error = capsys.readouterr().err
    assert f"GOVSHARE_CJK_FONT={data / 'missing.ttf'} is not a font file" in error
    assert not out.exists()


def test_without_fontconfig_fonts_the_error_names_the_debian_packages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOVSHARE_CJK_FONT", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")  # no fc-list: as on a machine without fontconfig
    with pytest.raises(ConfigurationError, match="fonts-wqy-microhei or fonts-noto-cjk"):
        find_cjk_font()


def test_an_out_that_is_a_file_is_a_clear_error_before_any_work(
    reported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--out`` naming an existing file (not a folder): exit 2 naming --out, the file untouched."""
    data = reported.parent
    taken = data / "taken.txt"
    taken.write_text("keep me", encoding="utf-8")
    assert cli.main(["report", "--year", "2026", "--out", str(taken), "--data", str(data)]) == 2
    error = capsys.readouterr().err
    assert "--out" in error and str(taken) in error and "Traceback" not in error
    assert taken.read_text(encoding="utf-8") == "keep me"


def test_an_out_inside_a_file_is_a_clear_error(reported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = reported.parent
    (data / "plain").write_text("x", encoding="utf-8")
    out = data / "plain" / "reports"
    assert cli.main(["report", "--year", "2026", "--out", str(out), "--data", str(data)]) == 2
    error = capsys.readouterr().err
    assert "--out" in error and "Traceback" not in error


def test_a_failed_write_leaves_no_half_written_report(
    reported: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The PDF failing (disk full) after the chart and Markdown: nothing of the run is left,
    and the files of an earlier run are kept whole; exit 2 naming the folder."""
    from gateway import report_render

    data, out = reported.parent, reported.parent / "half"
    out.mkdir()
    earlier = out / "evaluation-2026-keep.md"
    earlier.write_text("earlier", encoding="utf-8")

    def full_disk(*args: Any, **kwargs: Any) -> bytes:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_render, "render_pdf", full_disk)
    assert cli.main(["report", "--year", "2026", "--out", str(out), "--data", str(data)]) == 2
    error = capsys.readouterr().err
    assert "No space left on device" in error and str(out) in error and "Traceback" not in error
    assert sorted(p.name for p in out.iterdir()) == ["evaluation-2026-keep.md"]
    assert earlier.read_text(encoding="utf-8") == "earlier"


@pytest.mark.parametrize("year", ["0", "99999", "twenty"])
def test_a_year_out_of_range_or_not_a_number_exits_2(
    reported: Path, year: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data, out = reported.parent, reported.parent / "bad-year"
    try:
        code = cli.main(["report", "--year", year, "--out", str(out), "--data", str(data)])
    except SystemExit as exc:  # argparse's own refusal of a non-number
        code = exc.code
    assert code == 2
    error = capsys.readouterr().err
    assert "--year" in error and "Traceback" not in error
    assert not out.exists()


def test_a_realtime_resource_is_judged_by_its_change_notices_in_the_report(tmp_path: Path) -> None:
    """The report judges realtime resources as /readyz does: a change notice covering the
    source's last change makes it on time (the report's oversight had no notice store, so
    every realtime resource was LATE however promptly its provider notified)."""
    needs_cjk_font()
    import uuid

    from gateway.changes import ChangeRow
    from gateway.platform import PlatformDB

    run_cli(tmp_path, "demo", "--no-serve", "--port", "0", "--organizations", "20", "--persons", "10")
    settings = Settings.load({}, data=str(tmp_path))

    def resident(reports: list[Any]) -> Any:
        (row,) = [t for t in reports[0].stats.timeliness if t.resource == "psb.resident"]
        return row

    before = resident(asyncio.run(gather_reports(settings, YEAR, demo.PSB.code)))
    assert before.rule == "realtime" and before.last_update is not None and before.on_time is False

    async def notify() -> None:
        platform = PlatformDB(settings.database_url)
        try:
            async with platform.session() as session, session.begin():
                session.add(ChangeRow(
                    id=uuid.uuid4().hex, resource="psb.resident", provider=demo.PSB.code, subjects=[],
                    items=[], changed_at=before.last_update, notified_at=before.last_update, due=None,
                    late=False, notified_by=demo.PSB.code,
                ))  # fmt: skip
        finally:
            await platform.close()

    asyncio.run(notify())
    after = resident(asyncio.run(gather_reports(settings, YEAR, demo.PSB.code)))
    assert after.last_notice == before.last_update and after.on_time is True
    (report,) = asyncio.run(gather_reports(settings, YEAR, demo.PSB.code))
    assert report.stats.changes_notified == 1  # the change-notice counts are the report's too
