"""``govshare demo``: six departments of Wuhan with synthetic but valid subjects.

Writes into the data folder: one SQLite database per providing department, a
catalog (Hubei profile) covering all three share classes, one conditional grant, and
``demo.json`` with the URL, ready tokens, sample codes and the grant. Running it again
on the same folder reuses the databases and the grant and issues fresh tokens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gateway.auth import load_signer
from gateway.platform import PlatformDB
from gateway.settings import Settings
from policies.codes import USCC_CHARSET, make_citizen_id, make_uscc
from policies.share import Mode

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
PROVIDERS = (AMR, TAX, HRSS, PSB, MCA, CREDIT)
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
    data_dir: Path, organizations: int = 10_000, persons: int = 10_000
) -> dict[str, Any]:
    """Create (or reuse) the demo databases and catalog; returns the sample codes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261121)
    orgs, people = organization_codes(organizations), person_ids(persons, rng)
    marker = data_dir / "demo-data.json"
    if not marker.exists() or json.loads(marker.read_text()).get("counts") != [
        organizations,
        persons,
    ]:
        _write_databases(data_dir, orgs, people, rng)
        marker.write_text(json.dumps({"counts": [organizations, persons]}))
    (data_dir / "catalog.yaml").write_text(
        yaml.safe_dump(demo_catalog(), allow_unicode=True, sort_keys=False)
    )
    return {"organizations": orgs[:10], "persons": people[:10]}


def _write_databases(
    data_dir: Path, orgs: list[str], people: list[str], rng: random.Random
) -> None:
    for department, table, columns, rows in _tables(orgs, people, rng):
        path = data_dir / f"{department.key}.db"
        path.unlink(missing_ok=True)
        with contextlib.closing(sqlite3.connect(path)) as db, db:  # close, and commit
            db.execute(f"CREATE TABLE {table} ({', '.join(columns)}, PRIMARY KEY ({columns[0]}))")
            db.execute(f"CREATE INDEX {table}_updated ON {table} (updated_at)")
            marks = ", ".join("?" for _ in columns)
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)


def _tables(
    orgs: list[str], people: list[str], rng: random.Random
) -> Iterator[tuple[DemoDepartment, str, list[str], list[tuple[Any, ...]]]]:
    stamp = lambda: (
        dt.datetime(2026, 1, 1) + dt.timedelta(minutes=rng.randrange(0, 460_000))
    ).isoformat()  # noqa: E731
    name = lambda: rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(("", *_GIVEN))  # noqa: E731
    yield AMR, "enterprise", ["uscc", "ent_name", "legal_rep", "capital", "status", "reg_date", "address", "scope", "inner_note", "updated_at"], [
        (c, f"武汉{_word(i)}{rng.choice(_TRADES)}有限公司", name(), rng.randrange(10, 10_000) * 10_000,
         rng.choice(("存续", "存续", "存续", "在业", "注销", "吊销")),
         (dt.date(1995, 1, 1) + dt.timedelta(days=rng.randrange(0, 11_000))).isoformat(),
         f"武汉市某区某路{rng.randrange(1, 999)}号", "技术开发；技术咨询", f"内部核查记录{i}", stamp())
        for i, c in enumerate(orgs)
    ]  # fmt: skip
    yield TAX, "tax_credit", ["uscc", "rating", "taxpayer_type", "arrears", "audit_note", "updated_at"], [
        (c, rng.choice("ABMCD"), rng.choice(("一般纳税人", "小规模纳税人")), rng.choice((0, 0, 0, rng.randrange(1, 900_000))),
         f"稽查线索{i}", stamp())
        for i, c in enumerate(orgs)
    ]  # fmt: skip
    yield HRSS, "insurance", ["uscc", "insured", "pay_status", "arrears", "updated_at"], [
        (c, rng.randrange(1, 3000), rng.choice(("正常缴费", "正常缴费", "欠费", "暂停")), rng.choice((0, rng.randrange(1, 200_000))), stamp())
        for c in orgs
    ]  # fmt: skip
    yield CREDIT, "credit_record", ["uscc", "blacklisted", "penalties", "latest_penalty", "updated_at"], [
        (c, rng.random() < 0.03, n, f"行政处罚决定书 武市监罚〔2025〕{i}号" if n else None, stamp())
        for i, c in enumerate(orgs) for n in (rng.choice((0, 0, 0, 1, 2)),)
    ]  # fmt: skip
    yield PSB, "resident", ["id_no", "full_name", "gender", "birth", "address", "religion", "updated_at"], [
        (p, name(), "男" if int(p[16]) % 2 else "女", f"{p[6:10]}-{p[10:12]}-{p[12:14]}",
         f"武汉市某区某街{rng.randrange(1, 300)}号{rng.randrange(1, 30)}栋", "（敏感信息）", stamp())
        for p in people
    ]  # fmt: skip
    yield MCA, "marriage", ["id_no", "marital_status", "reg_date", "updated_at"], [
        (p, rng.choice(("未婚", "已婚", "已婚", "离婚", "丧偶")), (dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(0, 9000))).isoformat(), stamp())
        for p in people
    ]  # fmt: skip


def _word(i: int) -> str:
    syllables = "华盛兴达恒通泰和信诚安瑞德鑫宏丰"
    return syllables[i % 16] + syllables[(i // 16) % 16] + str(i)


def _department(dep: DemoDepartment) -> dict[str, Any]:
    connector = {"kind": "sql", "url": f"sqlite+aiosqlite:///{{data}}/{dep.key}.db"}
    return {
        "code": dep.code,
        "name": dep.name,
        "region": "420100",
        "level": "city",
        "connector": connector,
    }


def _consumer(dep: DemoDepartment) -> dict[str, Any]:
    connector = {"kind": "mock", "tables": {}}  # consumers provide nothing in the demo
    return {
        "code": dep.code,
        "name": dep.name,
        "region": "420100",
        "level": "city",
        "connector": connector,
    }


def demo_catalog() -> dict[str, Any]:
    return {
        "profile": "hubei",
        "departments": [*map(_department, PROVIDERS), *map(_consumer, (DRC, HOUSING, BIGDATA))],
        "resources": _resources(),
    }


def _resource(
    dep: DemoDepartment, rid: str, name: str, subject: str, key: str, table: str, **extra: Any
) -> dict[str, Any]:
    source = {"table": table, "updated_at": "updated_at", "columns": extra.pop("columns", {})}
    return {"id": rid, "code": f"420100-{dep.key.upper()}-{rid.split('.')[1].upper()}", "name": name,
            "provider": dep.code, "subject": subject, "key": key, "source": source, **extra}  # fmt: skip


def _resources() -> list[dict[str, Any]]:
    return [
        _resource(AMR, "amr.enterprise_registration", "企业登记信息", "organization", "uscc", "enterprise",
                  category="base", update_cycle="daily", modes=["query", "compare", "bulk"], published="2024-01-01",
                  summary="市场主体设立、变更、注销登记的基本信息",
                  columns={"name": "ent_name", "legal_representative": "legal_rep", "registered_capital": "capital",
                           "registration_date": "reg_date", "business_scope": "scope"},
                  items=[
                      {"name": "uscc", "title": "统一社会信用代码"},
                      {"name": "name", "title": "企业名称", "normalize": ["nfkc", "strip"]},
                      {"name": "legal_representative", "title": "法定代表人", "share": "conditional",
                       "condition": "用于行政审批中核验法定代表人身份", "compare": "unconditional"},
                      {"name": "registered_capital", "title": "注册资本（元）", "type": "integer"},
                      {"name": "status", "title": "登记状态"},
                      {"name": "registration_date", "title": "成立日期", "type": "date"},
                      {"name": "address", "title": "住所", "share": "conditional", "condition": "用于送达和现场核查"},
                      {"name": "business_scope", "title": "经营范围"},
                      {"name": "inner_note", "title": "内部核查记录", "share": "not_shared",
                       "basis": "《中华人民共和国市场主体登记管理条例》第三十五条：涉及内部核查的信息不予公开"},
                  ]),
        _resource(TAX, "tax.tax_credit", "纳税信用等级", "organization", "uscc", "tax_credit",
                  category="theme", update_cycle="monthly", modes=["query", "compare"],
                  columns={"credit_rating": "rating", "tax_arrears": "arrears"},
                  items=[
                      {"name": "uscc", "title": "统一社会信用代码"},
                      {"name": "credit_rating", "title": "纳税信用等级"},
                      {"name": "taxpayer_type", "title": "纳税人类型"},
                      {"name": "tax_arrears", "title": "欠税金额（元）", "type": "integer", "share": "conditional",
                       "condition": "用于信用监管和联合惩戒"},
                      {"name": "audit_note", "title": "稽查线索", "share": "not_shared",
                       "basis": "《中华人民共和国税收征收管理法》第八条：税务机关应当依法为纳税人的情况保密"},
                  ]),
        _resource(HRSS, "hrss.social_insurance", "单位社会保险参保信息", "organization", "uscc", "insurance",
                  category="department", update_cycle="monthly", modes=["query"],
                  columns={"insured_employees": "insured", "contribution_status": "pay_status",
                           "contribution_arrears": "arrears"},
                  items=[
                      {"name": "uscc", "title": "统一社会信用代码"},
                      {"name": "insured_employees", "title": "参保职工人数", "type": "integer"},
                      {"name": "contribution_status", "title": "缴费状态"},
                      {"name": "contribution_arrears", "title": "欠缴金额（元）", "type": "integer",
                       "share": "conditional", "condition": "用于劳动保障监察"},
                  ]),
        _resource(CREDIT, "credit.credit_record", "公共信用记录", "organization", "uscc", "credit_record",
                  category="theme", update_cycle="daily", modes=["query", "bulk"],
                  columns={"penalty_count": "penalties"},
                  items=[
                      {"name": "uscc", "title": "统一社会信用代码"},
                      {"name": "blacklisted", "title": "是否列入严重失信名单", "type": "boolean"},
                      {"name": "penalty_count", "title": "行政处罚次数", "type": "integer"},
                      {"name": "latest_penalty", "title": "最近一次处罚决定书", "share": "conditional",
                       "condition": "用于信用修复和联合惩戒"},
                  ]),
        _resource(PSB, "psb.resident", "常住人口基本信息", "person", "id_number", "resident",
                  category="base", update_cycle="realtime", share="conditional",
                  condition="用于政务服务中核验自然人身份", modes=["query", "compare"],
                  columns={"id_number": "id_no", "name": "full_name", "birth_date": "birth"},
                  items=[
                      {"name": "id_number", "title": "公民身份号码", "share": "unconditional"},
                      {"name": "name", "title": "姓名", "compare": "unconditional"},
                      {"name": "gender", "title": "性别", "share": "unconditional"},
                      {"name": "birth_date", "title": "出生日期", "type": "date", "share": "unconditional"},
                      {"name": "address", "title": "住址", "mask": {"keep_first": 6, "keep_last": 0}},
                      {"name": "religion", "title": "宗教信仰", "share": "not_shared",
                       "basis": "《中华人民共和国个人信息保护法》第二十八条：宗教信仰属敏感个人信息"},
                  ]),
        _resource(MCA, "mca.marriage", "婚姻登记信息", "person", "id_number", "marriage",
                  category="department", update_cycle="daily", share="conditional",
                  condition="用于住房保障、公积金等需核验婚姻状况的业务", modes=["query", "compare"],
                  columns={"id_number": "id_no", "registration_date": "reg_date"},
                  items=[
                      {"name": "id_number", "title": "公民身份号码", "share": "unconditional"},
                      {"name": "marital_status", "title": "婚姻状况"},
                      {"name": "registration_date", "title": "登记日期", "type": "date"},
                  ]),
    ]  # fmt: skip


async def ensure_grant(settings: Settings) -> dict[str, Any]:
    """The demo's one conditional grant (to DRC), created once."""
    platform = PlatformDB(settings.database_url)
    try:
        await platform.create_schema()
        items = ["legal_representative", "address"]
        existing = [
            g
            for g in await platform.grants_for(DRC.code)
            if g.resource == "amr.enterprise_registration"
        ]
        grant = existing[0] if existing else await platform.add_grant(
            DRC.code, "amr.enterprise_registration", items, GRANT_PURPOSE,
            valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=365), modes=[Mode.QUERY, Mode.COMPARE])  # fmt: skip
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


SAMPLE_ORGANIZATION_QUERY = """query Organization($code: USCC!) {
  organization(code: $code) {
    code
    enterpriseRegistration { name status registeredCapital legalRepresentative }
    taxCredit { creditRating taxpayerType }
    creditRecord { blacklisted penaltyCount }
  }
}"""

SAMPLE_PERSON_QUERY = """query Person($id: CitizenID!) {
  person(id: $id) { id resident { gender birthDate name } }
}"""
