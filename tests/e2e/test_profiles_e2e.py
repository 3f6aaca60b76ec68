"""Each profile through a real server (issue 10 sections 1-2): a small catalog per profile
(tests/data/profiles/<profile>.yaml) over a real SQLite department, served by
``govshare serve`` on 127.0.0.1; the expectations are data (tests/policies/data/profiles/).

Covers: refusals in the profile's terms with ``extensions.article``; APPLICATION_REQUIRED and
the platform grant on acceptance (hubei, zhejiang); onboarding (sanya: mutation and CLI; no
read by any path before it, the plan cache included); the operator's consent to a refusal
(sanya); ``/schema.graphql`` and the ``catalog`` query (``shareTerm``) in the profile's terms.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml

from gateway.auth import load_signer
from policies.codes import make_uscc
from policies.profile import load_profile, profile_names
from tests.conftest import run_cli

TESTS = Path(__file__).parents[1]
PURPOSE = "行政审批核验"
SUBJECT = make_uscc("9", "1", "420102", "MA000001")
QUERY = "query($c: USCC!) { organization(code: $c) { enterpriseRegistration { %s } } }"


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(
        (TESTS / "policies/data/profiles" / f"{name}.yaml").read_text("utf-8")
    )
    return data


@dataclass
class Served:
    name: str
    url: str
    data_dir: Path
    provider: str

    def token(self, department: str, *roles: str) -> str:
        return load_signer(self.data_dir).issue(department, list(roles), ttl=600)

    def post(self, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "X-Purpose": quote(PURPOSE), "X-Voucher": "off"}
        body = {"query": query, "variables": variables or {}}
        response = httpx.post(f"{self.url}/graphql", json=body, headers=headers, timeout=30)
        assert response.status_code in (200, 400, 403), response.text
        answer: dict[str, Any] = response.json()
        return answer

    def read(self, token: str, fields: str) -> dict[str, Any]:
        return self.post(token, QUERY % fields, {"c": SUBJECT})


def consumer() -> str:
    """A consumer department of its own per test (a fresh USCC; no grants, not onboarded)."""
    consumer.count += 1  # type: ignore[attr-defined]
    return make_uscc("1", "1", "420100", f"MC{consumer.count:06d}")  # type: ignore[attr-defined]


consumer.count = 0  # type: ignore[attr-defined]


def write_department(data_dir: Path) -> None:
    with contextlib.closing(sqlite3.connect(data_dir / "amr.db")) as db, db:
        db.execute(
            "CREATE TABLE enterprise (uscc TEXT PRIMARY KEY, ent_name TEXT, legal_rep TEXT, inner_note TEXT)"
        )
        db.execute(
            "INSERT INTO enterprise VALUES (?, '武汉示例科技有限公司', '王伟', '内部核查记录')", (SUBJECT,)
        )


def wait_serving(log_file: Path, process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log_file.read_text()
        found = re.search(r"at (http://\S+)/graphql", log_file.read_text())
        if found:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{found.group(1)}/healthz", timeout=2).status_code == 200:
                    return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"not serving: {log_file.read_text()}")


@pytest.fixture(scope="module", params=profile_names())
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    name = request.param
    data_dir = tmp_path_factory.mktemp(f"profile-{name}")
    shutil.copy(TESTS / "data/profiles" / f"{name}.yaml", data_dir / "catalog.yaml")
    write_department(data_dir)
    provider = yaml.safe_load((data_dir / "catalog.yaml").read_text("utf-8"))["departments"][0]["code"]
    log_file = data_dir / "serve.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--data", str(data_dir), "--port", "0"]
    with log_file.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        yield Served(name, wait_serving(log_file, process), data_dir, provider)
    finally:
        process.terminate()
        process.wait(timeout=20)


def errors_by_field(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["path"][-1]: e for e in answer.get("errors", []) if e.get("path")}


def onboard(served: Served, department: str) -> None:
    mutation = "mutation($d: String!) { onboardDepartment(code: $d, commitment: $t) { department } }"
    mutation = mutation.replace("$t", '"遵守信息资源共享规定和相关保密规定"')
    answer = served.post(served.token("11420100MB0002030T", "operator"), mutation, {"d": department})
    assert answer["data"]["onboardDepartment"]["department"] == department, answer


def ready_consumer(served: Served) -> tuple[str, str]:
    """A consumer that may read unconditional items where the profile lets anyone do so."""
    department = consumer()
    if load_profile(served.name).access.onboarding:
        onboard(served, department)
    return department, served.token(department, "consumer")


def apply(served: Served, token: str, items: list[str]) -> dict[str, Any]:
    mutation = """mutation($a: ApplicationInput!) { submitApplication(application: $a) { id status } }"""
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    application = {"resource": "amr.enterprise_registration", "items": items, "purpose": PURPOSE,
                   "scopeOfKnowledge": "审批科", "securityMeasures": "专网", "legalBasis": "职责",
                   "validUntil": until}  # fmt: skip
    answer = served.post(token, mutation, {"a": application})
    assert "errors" not in answer, answer
    result: dict[str, Any] = answer["data"]["submitApplication"]
    return result


# --- section 1: what a person reads -------------------------------------------------------


def test_refusals_speak_the_profiles_terms_and_cite_its_articles(served: Served) -> None:
    want = expected(served.name)
    _, token = ready_consumer(served)
    answer = served.read(token, "name legalRepresentative")
    conditional = errors_by_field(answer)["legalRepresentative"]
    assert conditional["extensions"]["code"] == "CONDITIONAL_ACCESS_REQUIRED"
    assert f"({want['terms']['conditional']})" in conditional["message"]
    assert conditional["extensions"]["article"] == want["articles"]["CONDITIONAL_ACCESS_REQUIRED"]
    assert "王伟" not in str(answer)  # never the stored value


def test_a_non_shared_field_asked_for_is_refused_in_the_profiles_terms(served: Served) -> None:
    """``innerNote`` is not in the schema; validation's NOT_SHARED says the same as the
    decision's: the profile's term for the class (not Hubei's 不予共享 under every profile)
    and its article, directly, in a fragment and under an alias."""
    want = expected(served.name)
    _, token = ready_consumer(served)
    others = {t for terms in (expected(n)["terms"] for n in profile_names()) for t in terms.values()}
    foreign = others - set(want["terms"].values())
    for fields in ("innerNote", "... on EnterpriseRegistration { n: innerNote }"):
        answer = served.read(token, fields)
        refusal = answer["errors"][0]
        assert refusal["extensions"]["code"] == "NOT_SHARED", answer
        assert f"({want['terms']['not_shared']})" in refusal["message"]
        assert not [t for t in foreign if f"({t})" in refusal["message"]], refusal["message"]
        assert refusal["extensions"]["article"] == want["articles"]["NOT_SHARED"]
        assert "内部核查记录" not in str(answer)


def test_schema_graphql_describes_the_classes_in_the_profiles_terms(served: Served) -> None:
    headers = {"Authorization": f"Bearer {served.token(consumer(), 'consumer')}"}
    sdl = httpx.get(f"{served.url}/schema.graphql", headers=headers, timeout=10).text
    terms = expected(served.name)["terms"]
    enum = sdl[sdl.index("enum ShareClass") - 300 : sdl.index("enum ShareClass")]
    assert all(term in enum for term in terms.values()), enum
    directive = sdl[: sdl.index("directive @share")]
    assert terms["conditional"] in directive.rsplit('"""', 2)[-2]
    assert f"Class: {terms['conditional']} (conditional)" in sdl  # the item's description
    assert 'enum ShareClass {\n  """' in sdl and "UNCONDITIONAL\n" in sdl  # values stay English


def test_schema_graphql_cites_no_other_regulation_and_uses_no_other_terms(served: Served) -> None:
    """Descriptions written once for every profile ("Hubei art. 26, Zhejiang art. 35, ...",
    "e.g. 受限共享类") keep only the served profile's citations and terms."""
    headers = {"Authorization": f"Bearer {served.token(consumer(), 'consumer')}"}
    sdl = httpx.get(f"{served.url}/schema.graphql", headers=headers, timeout=10).text
    sdl = sdl.replace("an element of Zhejiang art. 8", "")  # CatalogResource.open says whose element it is
    others = [n.title() for n in profile_names() if n != served.name]
    assert not re.findall(rf"\b(?:{'|'.join(others)})\b[ /A-Za-z]* art\.", sdl)
    own = set(expected(served.name)["terms"].values())
    terms = {t for n in profile_names() for t in expected(n)["terms"].values()}
    foreign = {t for t in terms - own if not any(t in o for o in own)}
    assert not [t for t in foreign if t in sdl], [t for t in foreign if t in sdl]
    assert f"{served.name.title()} art." in sdl  # its own citations stay


def test_the_catalog_query_gives_share_and_share_term(served: Served) -> None:
    answer = served.post(
        served.token("11420100MB0002030T", "operator"),
        "{ catalog { profile resources { share shareTerm items { name share shareTerm } } } }",
    )
    catalog = answer["data"]["catalog"]
    assert catalog["profile"] == served.name
    items = {i["name"]: (i["share"], i["shareTerm"]) for i in catalog["resources"][0]["items"]}
    terms = expected(served.name)["terms"]
    assert items["legal_representative"] == ("CONDITIONAL", terms["conditional"])
    assert items["inner_note"] == ("NOT_SHARED", terms["not_shared"])
    assert catalog["resources"][0]["shareTerm"] == terms["unconditional"]


def test_catalog_check_prints_the_profiles_terms(served: Served) -> None:
    out = run_cli(served.data_dir, "catalog", "check").stdout
    assert f"profile {served.name}: {load_profile(served.name).own_terms()}" in out


# --- section 2: access rules ----------------------------------------------------------------


def test_unconditional_items_open_or_on_application(served: Served) -> None:
    want = expected(served.name)
    _, token = ready_consumer(served)
    answer = served.read(token, "name")
    if want["access"]["unconditional_without_application"] == "allowed":
        assert answer["data"]["organization"]["enterpriseRegistration"]["name"] == "武汉示例科技有限公司", (
            answer
        )
        return
    error = errors_by_field(answer)["name"]
    assert error["extensions"]["code"] == "APPLICATION_REQUIRED"
    assert error["extensions"]["article"] == want["articles"]["APPLICATION_REQUIRED"]
    assert f"({want['terms']['unconditional']})" in error["message"]
    assert answer["data"]["organization"]["enterpriseRegistration"]["name"] is None
    # apply: the platform grants unconditional items on acceptance (Hubei art. 21, Zhejiang art. 26)
    application = apply(served, token, ["uscc", "name"])
    if application["status"] == "SUBMITTED":  # hubei: the platform's check step (art. 19)
        check = "mutation($i: ID!) { checkApplication(id: $i, accept: true) { status } }"
        checked = served.post(served.token("11420100MB0002030T", "operator"), check, {"i": application["id"]})
        assert checked["data"]["checkApplication"]["status"] == "APPROVED", checked
    else:
        assert application["status"] == "APPROVED"  # zhejiang: 即时 (at once)
    granted = served.read(token, "name")
    assert granted["data"]["organization"]["enterpriseRegistration"]["name"] == "武汉示例科技有限公司", (
        granted
    )


def test_onboarding_is_required_before_any_read_under_sanya_only(served: Served) -> None:
    department = consumer()
    token = served.token(department, "consumer")
    answer = served.read(token, "uscc")
    if not expected(served.name)["onboarding"]:
        assert not any(e["extensions"]["code"] == "ONBOARDING_REQUIRED" for e in answer.get("errors", []))
        return
    (error,) = answer["errors"]
    article = expected(served.name)["articles"]["ONBOARDING_REQUIRED"]
    assert error["extensions"] == {
        "code": "ONBOARDING_REQUIRED",
        "department": department,
        "article": article,
    }
    assert answer.get("data") is None
    onboard(served, department)
    onboard(served, department)  # idempotent
    assert served.read(token, "uscc")["data"]["organization"]["enterpriseRegistration"]["uscc"] == SUBJECT


def test_no_path_around_onboarding(served: Served) -> None:
    if not expected(served.name)["onboarding"]:
        pytest.skip("only sanya requires onboarding")
    _, ready_token = ready_consumer(served)
    assert "errors" not in served.read(ready_token, "uscc name")  # a plan for these items is now cached
    token = served.token(consumer(), "consumer")
    for query in (
        QUERY % "uscc name",  # the very plan just cached
        "query($c: USCC!) { a: organization(code: $c) { b: enterpriseRegistration { c: name } } }",
        "query($c: USCC!) { organization(code: $c) { ...F } } "
        "fragment F on Organization { enterpriseRegistration { name } }",
        "query($c: USCC!) { organizations(codes: [$c, $c]) { enterpriseRegistration { uscc } } }",
    ):
        answer = served.post(token, query, {"c": SUBJECT})
        assert [e["extensions"]["code"] for e in answer["errors"]] == ["ONBOARDING_REQUIRED"], answer
        assert "武汉示例" not in str(answer)


def test_a_department_not_onboarded_is_not_told_whether_a_subject_exists(served: Served) -> None:
    """Sanya art. 12: nothing before onboarding, not even existence. ``organization(code)
    { code }`` selects no item, so the item plan does not see it; the key lookup must refuse."""
    if not expected(served.name)["onboarding"]:
        pytest.skip("only sanya requires onboarding")
    token = served.token(consumer(), "consumer")
    unknown = make_uscc("9", "1", "420102", "MA999999")
    for query in (
        "query($c: USCC!) { organization(code: $c) { code } }",
        "query($c: USCC!) { organization(code: $c) { __typename } }",
        "query($c: USCC!) { organizations(codes: [$c]) { code } }",
        "query($c: USCC!) { a: organization(code: $c) { ... on Organization { code } } }",
    ):
        known, other = (served.post(token, query, {"c": code}) for code in (SUBJECT, unknown))
        for answer in (known, other):
            assert [e["extensions"]["code"] for e in answer["errors"]] == ["ONBOARDING_REQUIRED"], answer
        assert known["data"] == other["data"], (known, other)


def test_only_an_operator_onboards(served: Served) -> None:
    mutation = 'mutation { onboardDepartment(code: "' + consumer() + '", commitment: "承诺") { department } }'
    answer = served.post(served.token(consumer(), "consumer", "provider"), mutation)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    blank = 'mutation { onboardDepartment(code: "' + consumer() + '", commitment: "  ") { department } }'
    answer = served.post(served.token("11420100MB0002030T", "operator"), blank)
    assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_the_onboard_command(served: Served) -> None:
    department = consumer()
    result = run_cli(served.data_dir, "onboard", department, "--commitment", "承诺遵守", check=False)
    if not expected(served.name)["onboarding"]:
        assert result.returncode == 1 and "requires no onboarding" in result.stderr
        return
    assert result.returncode == 0, result.stderr
    assert f'"department": "{department}"' in result.stdout
    token = served.token(department, "consumer")
    assert served.read(token, "uscc")["data"]["organization"]["enterpriseRegistration"]["uscc"] == SUBJECT


def test_a_refusal_has_reasons_and_under_sanya_waits_for_the_operator(served: Served) -> None:
    _, token = ready_consumer(served)
    application = apply(served, token, ["legal_representative"])
    if application["status"] == "SUBMITTED":
        check = "mutation($i: ID!) { checkApplication(id: $i, accept: true) { status } }"
        served.post(served.token("11420100MB0002030T", "operator"), check, {"i": application["id"]})
    provider = served.token(served.provider, "provider")
    decide = "mutation($i: ID!, $r: [String!]) "
    decide += "{ decideApplication(id: $i, approve: false, reasons: $r) { status } }"
    no_reasons = served.post(provider, decide, {"i": application["id"], "r": []})
    assert no_reasons["errors"][0]["extensions"]["code"] == "BAD_REQUEST"  # reasons under every profile
    refused = served.post(provider, decide, {"i": application["id"], "r": ["不符合共享条件"]})
    status = refused["data"]["decideApplication"]["status"]
    if not expected(served.name)["refusal_confirmation"]:
        assert status == "REFUSED"
        return
    assert status == "REFUSAL_PENDING"
    confirm = (
        "mutation($i: ID!, $c: Boolean!, $r: [String!]) "
        "{ confirmRefusal(id: $i, consent: $c, reasons: $r) { status reasons } }"
    )
    operator = served.token("11420100MB0002030T", "operator")
    assert (
        served.post(provider, confirm, {"i": application["id"], "c": True, "r": []})["errors"][0][
            "extensions"
        ]["code"]
        == "FORBIDDEN"
    )
    withheld = served.post(operator, confirm, {"i": application["id"], "c": False, "r": []})
    assert withheld["errors"][0]["extensions"]["code"] == "BAD_REQUEST"  # withholding needs reasons
    withheld = served.post(operator, confirm, {"i": application["id"], "c": False, "r": ["理由不充分"]})
    assert withheld["data"]["confirmRefusal"]["status"] == "ACCEPTED"
    served.post(provider, decide, {"i": application["id"], "r": ["涉及商业秘密"]})
    final = served.post(operator, confirm, {"i": application["id"], "c": True, "r": []})
    assert final["data"]["confirmRefusal"] == {"status": "REFUSED", "reasons": ["涉及商业秘密"]}


# --- identifiers (Zhejiang art. 21) ---------------------------------------------------------

BY_ORG_CODE = (
    "query($o: String!) { organizationByOrgCode(orgCode: $o) { code enterpriseRegistration { uscc } } }"
)


def test_zhejiang_resolves_an_organization_code_to_the_uscc_embedding_it(served: Served) -> None:
    _, token = ready_consumer(served)
    org_code = SUBJECT[8:17]
    answer = served.post(token, BY_ORG_CODE, {"o": f"{org_code[:8]}-{org_code[8]}"})
    if served.name != "zhejiang":  # only Zhejiang keys organizations by organization code
        assert answer["errors"][0]["extensions"]["code"] == "BAD_REQUEST", answer
        assert "organizationByOrgCode" in answer["errors"][0]["message"]
        return
    assert answer["data"]["organizationByOrgCode"]["code"] == SUBJECT, answer
    # the same access rules as organization(code:): unconditional items need an application here
    assert errors_by_field(answer)["uscc"]["extensions"]["code"] == "APPLICATION_REQUIRED"
    unknown = make_uscc("9", "1", "330100", "MA000009")[8:17]
    assert served.post(token, BY_ORG_CODE, {"o": unknown})["data"] == {"organizationByOrgCode": None}
    wrong = org_code[:8] + ("0" if org_code[8] != "0" else "1")
    refused = served.post(token, BY_ORG_CODE, {"o": wrong})
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_CODE"
    assert refused["errors"][0]["extensions"]["rule"] == "org_code_check"


def test_stats_describe_the_item_counts_in_the_profiles_terms(served: Served) -> None:
    answer = served.post(
        served.token(consumer(), "consumer"),
        '{ __type(name: "ItemCounts") { fields { name description } } }',
    )
    described = {f["name"]: f["description"] for f in answer["data"]["__type"]["fields"]}
    terms = expected(served.name)["terms"]
    assert described == {
        "unconditional": f"Items of class {terms['unconditional']}.",
        "conditional": f"Items of class {terms['conditional']}.",
        "notShared": f"Items of class {terms['not_shared']}.",
    }


def test_an_export_is_refused_before_onboarding_too(served: Served) -> None:
    """GET /export decides like a query: under sanya onboarding comes first (art. 12)."""
    department = consumer()

    def export() -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {served.token(department, 'consumer')}",
            "X-Purpose": quote(PURPOSE),
        }
        return httpx.get(
            f"{served.url}/export/amr.enterprise_registration?items=name", headers=headers, timeout=30
        )

    first = export()
    codes = [e["extensions"]["code"] for e in first.json()["errors"]]
    if expected(served.name)["onboarding"]:
        assert (first.status_code, codes) == (403, ["ONBOARDING_REQUIRED"])
        onboard(served, department)
        codes = [e["extensions"]["code"] for e in export().json()["errors"]]
    assert set(codes) == {"MODE_NOT_ALLOWED"}  # these catalogs offer no bulk mode
    assert "武汉示例" not in first.text


def test_existence_is_not_told_before_an_application_where_one_is_needed(served: Served) -> None:
    """``organization(code) { code }`` reads the key: under on_application only with a grant;
    before, every code gets the same answer (the code asked), existing or not."""
    department = consumer()
    if load_profile(served.name).access.onboarding:
        onboard(served, department)
    token = served.token(department, "consumer")
    only_code = "query($c: USCC!) { organization(code: $c) { code } }"
    unknown = make_uscc("9", "1", "420102", "MA999999")

    def answers() -> tuple[Any, Any]:
        known = served.post(token, only_code, {"c": SUBJECT})["data"]["organization"]
        return known, served.post(token, only_code, {"c": unknown})["data"]["organization"]

    if expected(served.name)["access"]["unconditional_without_application"] == "allowed":
        assert answers() == ({"code": SUBJECT}, None)
        return
    assert answers() == ({"code": SUBJECT}, {"code": unknown})  # nothing told
    application = apply(served, token, ["uscc"])
    if application["status"] == "SUBMITTED":
        check = "mutation($i: ID!) { checkApplication(id: $i, accept: true) { status } }"
        served.post(served.token("11420100MB0002030T", "operator"), check, {"i": application["id"]})
    assert answers() == ({"code": SUBJECT}, None)
