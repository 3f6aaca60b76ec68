"""``govshare demo``: six departments of Wuhan with synthetic but valid subjects.

Writes into the data folder: one SQLite database per providing department, a
catalog (Hubei profile) covering all three share classes, the approved applications for
unconditional items of the departments it issues tokens to (Hubei art. 13: every use by
application; ``gateway.demo_applications``), one conditional grant, and
``demo.json`` with the URL, ready tokens, sample codes and the grant. Running it again
on the same folder reuses the databases and the grant and issues fresh tokens.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import csv
import datetime as dt
import json
import random
import sqlite3
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gateway.auth import load_signer
from gateway.demo_rest import DEMO_FILE, write_demo_data
from gateway.platform import PlatformDB, new_grant_row
from gateway.settings import Settings
from policies.codes import USCC_CHARSET, make_citizen_id, make_uscc
from policies.share import Mode

T = TypeVar("T")
DEMO_TOKEN_TTL = 7 * 24 * 3600
WUHAN_DISTRICTS = ("420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112")
GRANT_PURPOSE = "行政审批核验"


@dataclass(frozen=True)
class DemoDepartment:
    key: str
    name: str
    serial: int  # makes the department's USCC (category 11: organ of state)

    @property
    def code(self) -> str:
        return make_uscc("1", "1", "420100", f"MB{self.serial:06d}")


AMR = DemoDepartment("amr", "武汉市市场监督管理局", 101)
TAX = DemoDepartment("tax", "国家税务总局武汉市税务局", 102)
HRSS = DemoDepartment("hrss", "武汉市人力资源和社会保障局", 103)
PSB = DemoDepartment("psb", "武汉市公安局", 104)
MCA = DemoDepartment("mca", "武汉市民政局", 105)
CREDIT = DemoDepartment("credit", "武汉市社会信用体系建设办公室", 106)
PROVIDERS = (AMR, TAX, HRSS, PSB, MCA, CREDIT)  # each with a SQLite database
HPF = DemoDepartment("hpf", "武汉住房公积金管理中心", 107)  # a REST API (gateway/demo_rest.py)
EMA = DemoDepartment("ema", "武汉市应急管理局", 108)  # CSV files in DATA/ema/
OTHER_PROVIDERS = (HPF, EMA)
DEMO_REST_URL = (
    "http://127.0.0.1:8766/"  # HPF's base_url in demo_catalog.yaml; `govshare demo` picks a free port
)
DRC = DemoDepartment("drc", "武汉市发展和改革委员会", 201)  # consumer holding the demo grant
HOUSING = DemoDepartment("housing", "武汉市住房和城市更新局", 202)  # consumer without grants
BIGDATA = DemoDepartment("bigdata", "武汉市政务服务和大数据管理局", 203)  # the platform operator

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_TRADES = ("科技", "贸易", "建设", "物流", "餐饮", "咨询", "医药", "电子", "文化", "农业")


def organization_codes(count: int) -> list[str]:
    """Deterministic valid USCCs: enterprise (9) / company (1), Wuhan districts."""
    return [make_uscc("9", "1", WUHAN_DISTRICTS[i % 8], _org_base(i)) for i in range(count)]


def _org_base(i: int) -> str:
    digits = []
    for _ in range(6):
        i, rem = divmod(i, len(USCC_CHARSET))
        digits.append(USCC_CHARSET[rem])
    return "MA" + "".join(reversed(digits))


def person_ids(count: int, rng: random.Random) -> list[str]:
    ids = []
    for i in range(count):
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 65))
        ids.append(make_citizen_id(WUHAN_DISTRICTS[i % 8], birth, f"{i % 1000:03d}"))
    return list(dict.fromkeys(ids))


def build_demo(
    data_dir: Path, organizations: int = 10_000, persons: int = 10_000, rest_url: str | None = None
) -> dict[str, Any]:
    """Create (or reuse) the demo databases, HPF's data, EMA's CSV file and the catalog;
    ``rest_url`` is where HPF's REST API will listen (default ``DEMO_REST_URL``).
    Returns the sample codes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261121)
    orgs, people = organization_codes(organizations), person_ids(persons, rng)
    marker, counts = data_dir / "demo-data.json", [organizations, persons]
    stale = not marker.exists() or json.loads(marker.read_text()).get("counts") != counts
    if stale or not (data_dir / DEMO_FILE).exists():
        _write_databases(data_dir, orgs, people, rng)
        write_demo_data(data_dir, orgs)
        _write_inspections(data_dir / EMA.key, orgs, random.Random(20261130))
        marker.write_text(json.dumps({"counts": counts}))
    catalog = demo_catalog_text().replace(DEMO_REST_URL, rest_url or DEMO_REST_URL)
    (data_dir / "catalog.yaml").write_text(catalog, encoding="utf-8")
    _run(approve_demo_readers(data_dir))  # Hubei art. 13: every use by application
    return {"organizations": orgs[:10], "persons": people[:10]}


async def approve_demo_readers(data_dir: Path) -> list[str]:
    """The applications of the departments the demo issues tokens to, approved in the data
    folder's platform database (``gateway.demo_applications``)."""
    from gateway.demo_applications import approve_demo_consumers  # it reads this module's departments

    return await approve_demo_consumers(Settings.load({}, data=str(data_dir)))


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to the end from synchronous code, also when called inside an event loop
    (test fixtures, the CLI): then in a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _write_databases(data_dir: Path, orgs: list[str], people: list[str], rng: random.Random) -> None:
    for department, table, columns, rows in _tables(orgs, people, rng):
        path = data_dir / f"{department.key}.db"
        path.unlink(missing_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as db, db:  # close, and commit
            db.execute(f"CREATE TABLE {table} ({', '.join(columns)}, PRIMARY KEY ({columns[0]}))")
            db.execute(f"CREATE INDEX {table}_updated ON {table} (updated_at)")
            marks = ", ".join("?" for _ in columns)
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _write_inspections(folder: Path, orgs: list[str], rng: random.Random) -> None:
    """EMA's drop: one inspection row per third organization, written aside then renamed."""
    folder.mkdir(exist_ok=True)
    aside = folder / "safety_inspection.csv.tmp"
    with aside.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["uscc", "inspected_on", "result", "hazards", "updated_at"])
        for code in orgs[::3]:
            result = rng.choice(("合格", "合格", "限期整改", "停产整顿"))
            hazards = 0 if result == "合格" else rng.randrange(1, 9)
            day = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(600))
            writer.writerow([code, day.isoformat(), result, hazards, f"{day.isoformat()}T17:00:00"])
    aside.replace(folder / "safety_inspection.csv")


Table = tuple[DemoDepartment, str, list[str], list[tuple[Any, ...]]]


class _Synthetic:
    """Deterministic fake values: names, dates, amounts, update stamps."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def stamp(self) -> str:
        return (dt.datetime(2026, 1, 1) + dt.timedelta(minutes=self.rng.randrange(460_000))).isoformat()

    def day(self, start_year: int, span_days: int) -> str:
        return (dt.date(start_year, 1, 1) + dt.timedelta(days=self.rng.randrange(span_days))).isoformat()

    def person_name(self) -> str:
        rng = self.rng
        return rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(("", *_GIVEN))

    def amount(self, top: int, zero_odds: int = 3) -> int:
        return 0 if self.rng.randrange(zero_odds + 1) else self.rng.randrange(1, top)


def _tables(orgs: list[str], people: list[str], rng: random.Random) -> Iterator[Table]:
    fake = _Synthetic(rng)
    yield AMR, "enterprise", AMR_COLUMNS, [_enterprise(i, c, fake) for i, c in enumerate(orgs)]
    yield TAX, "tax_credit", TAX_COLUMNS, [_tax(i, c, fake) for i, c in enumerate(orgs)]
    yield HRSS, "insurance", HRSS_COLUMNS, [_insurance(c, fake) for c in orgs]
    yield CREDIT, "credit_record", CREDIT_COLUMNS, [_credit(i, c, fake) for i, c in enumerate(orgs)]
    yield PSB, "resident", PSB_COLUMNS, [_resident(p, fake) for p in people]
    yield MCA, "marriage", MCA_COLUMNS, [_marriage(p, fake) for p in people]


AMR_COLUMNS = ["uscc", "ent_name", "legal_rep", "capital", "status", "reg_date", "address",
               "scope", "inner_note", "updated_at"]  # fmt: skip
TAX_COLUMNS = ["uscc", "rating", "taxpayer_type", "arrears", "audit_note", "updated_at"]
HRSS_COLUMNS = ["uscc", "insured", "pay_status", "arrears", "updated_at"]
CREDIT_COLUMNS = ["uscc", "blacklisted", "penalties", "latest_penalty", "updated_at"]
PSB_COLUMNS = ["id_no", "full_name", "gender", "birth", "address", "religion", "updated_at"]
MCA_COLUMNS = ["id_no", "marital_status", "reg_date", "updated_at"]


def _enterprise(i: int, code: str, fake: _Synthetic) -> tuple[Any, ...]:
    rng = fake.rng
    name = f"武汉{_word(i)}{rng.choice(_TRADES)}有限公司"
    status = rng.choice(("存续", "存续", "存续", "在业", "注销", "吊销"))
    address = f"武汉市某区某路{rng.randrange(1, 999)}号"
    capital = rng.randrange(10, 10_000) * 10_000
    founded, scope, note = fake.day(1995, 11_000), "技术开发；技术咨询", f"内部核查记录{i}"
    return (code, name, fake.person_name(), capital, status, founded, address, scope, note, fake.stamp())


def _tax(i: int, code: str, fake: _Synthetic) -> tuple[Any, ...]:
    kind = fake.rng.choice(("一般纳税人", "小规模纳税人"))
    return (
        code,
        fake.rng.choice("ABMCD"),
        kind,
        fake.amount(900_000),
        f"稽查线索{i}",
        fake.stamp(),
    )


def _insurance(code: str, fake: _Synthetic) -> tuple[Any, ...]:
    status = fake.rng.choice(("正常缴费", "正常缴费", "欠费", "暂停"))
    return (code, fake.rng.randrange(1, 3000), status, fake.amount(200_000, 1), fake.stamp())


def _credit(i: int, code: str, fake: _Synthetic) -> tuple[Any, ...]:
    penalties = fake.rng.choice((0, 0, 0, 1, 2))
    latest = f"行政处罚决定书 武市监罚〔2025〕{i}号" if penalties else None
    return (code, fake.rng.random() < 0.03, penalties, latest, fake.stamp())


def _resident(person: str, fake: _Synthetic) -> tuple[Any, ...]:
    gender = "男" if int(person[16]) % 2 else "女"
    birth = f"{person[6:10]}-{person[10:12]}-{person[12:14]}"
    address = f"武汉市某区某街{fake.rng.randrange(1, 300)}号{fake.rng.randrange(1, 30)}栋"
    return (person, fake.person_name(), gender, birth, address, "（敏感信息）", fake.stamp())


def _marriage(person: str, fake: _Synthetic) -> tuple[Any, ...]:
    status = fake.rng.choice(("未婚", "已婚", "已婚", "离婚", "丧偶"))
    return (person, status, fake.day(2000, 9000), fake.stamp())


def _word(i: int) -> str:
    syllables = "华盛兴达恒通泰和信诚安瑞德鑫宏丰"
    return syllables[i % 16] + syllables[(i // 16) % 16] + str(i)


CATALOG_FILE = Path(__file__).with_name("demo_catalog.yaml")


def demo_catalog_text() -> str:
    return CATALOG_FILE.read_text(encoding="utf-8")


async def ensure_grant(settings: Settings) -> dict[str, Any]:
    """The demo's one conditional grant (to DRC), created once."""
    platform = PlatformDB(settings.database_url)
    try:
        await platform.create_schema()
        items = ["legal_representative", "address"]
        existing = [  # not DRC's application for the unconditional items (approve_demo_readers)
            g
            for g in await platform.grants_for(DRC.code)
            if g.resource == "amr.enterprise_registration" and set(items) <= g.items
        ]
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
        modes = [Mode.QUERY, Mode.COMPARE]
        grant = (
            existing[0]
            if existing
            else await platform.add_grant(
                new_grant_row(DRC.code, "amr.enterprise_registration", items, GRANT_PURPOSE, until, modes)
            )
        )
    finally:
        await platform.close()
    return {"id": grant.id, "consumer": DRC.code, "resource": grant.resource,
            "items": sorted(grant.items), "purpose": grant.purpose}  # fmt: skip


def demo_tokens(settings: Settings) -> dict[str, str]:
    signer = load_signer(settings.data_dir)
    issue = lambda dep, roles: signer.issue(dep.code, roles, f"demo-{dep.key}", DEMO_TOKEN_TTL)  # noqa: E731
    return {
        "operator": issue(BIGDATA, ["operator"]),
        "consumer": issue(HOUSING, ["consumer"]),
        "consumer_with_grant": issue(DRC, ["consumer"]),
        "provider": issue(AMR, ["provider"]),
    }


_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def sample_compare(data_dir: Path, code: str) -> dict[str, Any]:
    """A ``POST /compare`` body for the demo: the organization's real name (a match, written
    with full-width digits and spaces around it to show normalisation) and a legal
    representative nobody has (a mismatch)."""
    uri = f"file:{data_dir / 'amr.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        (name,) = db.execute("SELECT ent_name FROM enterprise WHERE uscc = ?", (code,)).fetchone()
    full_width = "\u3000" + name.translate(_FULL_WIDTH_DIGITS) + " "  # NFKC and strip fold these
    return {
        "resource": "amr.enterprise_registration",
        "subject": code.lower(),
        "claims": {"name": full_width, "legal_representative": "某某某"},
    }


SAMPLE_ORGANIZATION_QUERY = """query Organization($code: USCC!) {
  organization(code: $code) {
    code
    enterpriseRegistration { name status registeredCapital legalRepresentative }
    taxCredit { creditRating taxpayerType }
    creditRecord { blacklisted penaltyCount }
  }
}"""
