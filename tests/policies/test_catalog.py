"""Tests for policies.catalog: every refusal names the file, the path and the fix.

The refusals are table-driven: each file in ``data/bad_catalogs/`` is a small catalog
with exactly one problem, and its first line says where and what:

    # expect: resources[0].items[2].basis | needs its legal basis

An optional second line ``# xfail: BUG: ...`` marks a known product bug (strict).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from errors import CatalogError, CatalogErrors
from policies.catalog import Catalog, Mask, camel, load_catalog
from policies.share import Mode, Share

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad_catalogs"
FOLDERS = DATA / "catalog_folders"
TEST_CATALOG = Path(__file__).parents[1] / "data" / "catalog.yaml"
BAD_FILES = sorted(BAD.glob("*.yaml"))
REQUIRED_CASES = {
    "unknown_provider",
    "department_uscc_check_char",
    "not_shared_without_basis",
    "conditional_without_condition",
    "duplicate_item_names",
    "duplicate_resource_ids",
    "item_name_hyphen",
    "item_name_digit_first",
    "item_name_upper_case",
    "key_item_missing",
    "key_item_not_shared",
    "share_term_unknown",
    "unknown_key_top",
    "unknown_key_department",
    "unknown_key_resource",
    "unknown_key_item",
    "department_region_short",
    "department_region_no_province",
    "date_invalid_quoted",
    "mode_unknown",
    "same_field_two_resources",
    "yaml_syntax",
}

# A valid one-resource catalog; {share}, {condition} and {extra} are filled per test.
TEMPLATE = """\
profile: hubei
departments:
  - code: 11420000MB00000191
    name: 湖北省市场监督管理局
    region: "420000"
    level: province
    connector: {{kind: mock}}
resources:
  - id: amr.enterprise_registration
    code: 420000-AMR-001
    name: 企业登记信息
    provider: 11420000MB00000191
    subject: organization
    key: uscc
    source: {{table: enterprise}}
{extra}    items:
      - {{name: uscc, title: 统一社会信用代码, share: unconditional}}
      - {{name: legal_representative, title: 法定代表人, share: {share}{condition}}}
"""


def header(file: Path) -> tuple[str, str, str | None]:
    """(path, substring, xfail reason or None) from a bad catalog's first lines."""
    lines = file.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# expect: "), f"{file.name}: first line must be `# expect: ...`"
    path, _, substring = lines[0].removeprefix("# expect: ").partition(" | ")
    reason = lines[1].removeprefix("# xfail: ") if lines[1].startswith("# xfail: ") else None
    return path.strip(), substring.strip(), reason


def bad_params() -> list[object]:
    params = []
    for file in BAD_FILES:
        _, _, reason = header(file)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(file, id=file.stem, marks=marks))
    return params


def write(tmp_path: Path, text: str, name: str = "catalog.yaml") -> Path:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    return file


def refusal(path: Path) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    return caught.value


# --- refusals, table-driven -----------------------------------------------------------


def test_the_table_covers_the_required_problems() -> None:
    assert {f.stem for f in BAD_FILES} >= REQUIRED_CASES


@pytest.mark.parametrize("file", bad_params())
def test_a_bad_catalog_is_refused_with_file_path_problem_and_fix(file: Path) -> None:
    path, substring, _ = header(file)
    error = refusal(file)
    assert error.file == str(file)
    assert error.path == path, error.message
    assert substring in error.problem, error.message
    assert error.fix.strip()
    assert error.extensions == {"code": "CATALOG_ERROR", "file": str(file), "path": path}
    assert str(file) in error.message and path in error.message and error.fix in error.message


# --- things a catalog may do ----------------------------------------------------------


def test_a_resource_level_condition_satisfies_a_conditional_item(tmp_path: Path) -> None:
    extra = "    condition: 用于行政审批核验\n"
    catalog = load_catalog(write(tmp_path, TEMPLATE.format(share="conditional", condition="", extra=extra)))
    item = catalog.resources["amr.enterprise_registration"].items_by_name["legal_representative"]
    assert item.share is Share.CONDITIONAL
    assert item.condition == "用于行政审批核验"


def test_an_item_condition_overrides_the_resource_condition(tmp_path: Path) -> None:
    extra = "    condition: 资源条件\n"
    text = TEMPLATE.format(share="conditional", condition=", condition: 事项条件", extra=extra)
    item = load_catalog(write(tmp_path, text)).resources["amr.enterprise_registration"].items[1]
    assert item.condition == "事项条件"


def test_a_resource_level_basis_satisfies_a_not_shared_item(tmp_path: Path) -> None:
    extra = "    basis: 《统计法》第三十九条\n"
    text = TEMPLATE.format(share="not_shared", condition="", extra=extra)
    item = load_catalog(write(tmp_path, text)).resources["amr.enterprise_registration"].items[1]
    assert (item.share, item.basis) == (Share.NOT_SHARED, "《统计法》第三十九条")


@pytest.mark.parametrize(
    ("term", "share"),
    [  # the template's profile is hubei: its terms (art. 7, 8, 11) and the English values
        ("有条件共享", Share.CONDITIONAL),
        ("有条件共享类", Share.CONDITIONAL),
        ("CONDITIONAL", Share.CONDITIONAL),
        ("不予共享", Share.NOT_SHARED),
        ("不予共享类", Share.NOT_SHARED),
        ("无条件共享", Share.UNCONDITIONAL),
        ("无条件共享类", Share.UNCONDITIONAL),
        ("Unconditional", Share.UNCONDITIONAL),
    ],
)
def test_profile_share_terms_are_accepted(tmp_path: Path, term: str, share: Share) -> None:
    needs = {Share.CONDITIONAL: ", condition: 核验", Share.NOT_SHARED: ", basis: 《某法》第一条"}
    text = TEMPLATE.format(share=term, condition=needs.get(share, ""), extra="")
    item = load_catalog(write(tmp_path, text)).resources["amr.enterprise_registration"].items[1]
    assert item.share is share


def test_a_profile_term_works_as_resource_default(tmp_path: Path) -> None:
    extra = "    share: 有条件共享\n    condition: 用于信用监管\n"
    text = TEMPLATE.format(share="无条件共享", condition="", extra=extra).replace(
        ", share: unconditional}", "}"
    )
    resource = load_catalog(write(tmp_path, text)).resources["amr.enterprise_registration"]
    assert resource.share is Share.CONDITIONAL
    assert [i.share for i in resource.items] == [Share.CONDITIONAL, Share.UNCONDITIONAL]
    assert resource.items[0].condition == "用于信用监管"


# --- folders and files ----------------------------------------------------------------


def test_a_catalog_split_over_two_files_loads_as_one() -> None:
    folder = FOLDERS / "split"
    catalog = load_catalog(folder)
    assert catalog.profile == "hubei"
    assert catalog.files == tuple(str(f) for f in sorted(folder.glob("*.yaml")))
    assert set(catalog.departments) == {"11420000MB00000191", "11420000MB0000027U"}
    assert set(catalog.resources) == {"amr.enterprise_registration", "tax.tax_credit"}
    assert catalog.resources["tax.tax_credit"].provider == "11420000MB0000027U"


def test_a_folder_whose_files_name_different_profiles_is_refused() -> None:
    folder = FOLDERS / "different_profiles"
    error = refusal(folder)
    assert error.file == str(folder / "a_departments.yaml")
    assert error.path == "profile"
    assert "different profiles" in error.problem
    assert "hubei" in error.problem and "zhejiang" in error.problem
    assert error.fix


def test_a_problem_in_the_second_file_of_a_folder_names_that_file() -> None:
    folder = FOLDERS / "bad_second_file"
    error = refusal(folder)
    assert error.file == str(folder / "b_resources.yaml")
    assert error.path == "resources[0].provider"
    assert "unknown provider" in error.problem


def test_a_resource_id_repeated_in_another_file_is_refused(tmp_path: Path) -> None:
    shutil.copytree(FOLDERS / "split", tmp_path, dirs_exist_ok=True)
    text = (tmp_path / "b_resources.yaml").read_text(encoding="utf-8")
    write(tmp_path, text.replace("profile: hubei\n", ""), "c_again.yaml")
    error = refusal(tmp_path)
    assert error.file == str(tmp_path / "c_again.yaml")
    assert error.path == "resources[0].id"
    assert "defined twice" in error.problem


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    error = refusal(missing)
    assert (error.file, error.path) == (str(missing), "(file)")
    assert "does not exist" in error.problem and error.fix


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    error = refusal(tmp_path)
    assert (error.file, error.path) == (str(tmp_path), "(folder)")
    assert "no .yaml files" in error.problem and error.fix


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    error = refusal(write(tmp_path, "# nothing yet\n"))
    assert error.path == "(top)" and "must be a mapping" in error.problem


# --- the test catalog -----------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(TEST_CATALOG)


def test_the_test_catalog_loads_with_its_departments(catalog: Catalog) -> None:
    assert catalog.profile == "hubei"
    assert catalog.files == (str(TEST_CATALOG),)
    assert list(catalog.departments) == [
        "11420000MB00000191",
        "11420000MB0000027U",
        "11420100MB0000035U",
    ]
    amr = catalog.departments["11420000MB00000191"]
    assert (amr.name, amr.region, amr.level) == ("湖北省市场监督管理局", "420000", "province")
    assert amr.connector["kind"] == "mock"
    assert catalog.departments["11420100MB0000035U"].level == "city"


def test_the_test_catalog_resources(catalog: Catalog) -> None:
    assert list(catalog.resources) == ["amr.enterprise_registration", "tax.tax_credit", "psb.resident"]
    amr = catalog.resources["amr.enterprise_registration"]
    assert (amr.field, amr.type_name) == ("enterpriseRegistration", "EnterpriseRegistration")
    assert (amr.subject, amr.key, amr.category, amr.update_cycle) == (
        "organization", "uscc", "base", "daily",
    )  # fmt: skip
    assert amr.modes == frozenset({Mode.QUERY, Mode.COMPARE, Mode.BULK})
    assert str(amr.published) == "2024-01-01"
    assert amr.source["table"] == "enterprise"
    assert amr.source["columns"]["legal_representative"] == "legal_rep"
    assert catalog.provider_of(amr).name == "湖北省市场监督管理局"
    tax = catalog.resources["tax.tax_credit"]
    assert (tax.field, tax.type_name, tax.modes) == (
        "taxCredit", "TaxCredit", frozenset({Mode.QUERY, Mode.COMPARE}),
    )  # fmt: skip
    assert tax.published is None and tax.category == "department"
    assert [r.id for r in catalog.resources_on("organization")] == [amr.id, tax.id]
    assert [r.id for r in catalog.resources_on("person")] == ["psb.resident"]
    assert catalog.resources_on("none") == ()


def test_the_test_catalog_items_by_class(catalog: Catalog) -> None:
    def by_class(rid: str) -> dict[Share, list[str]]:
        found: dict[Share, list[str]] = {}
        for item in catalog.resources[rid].items:
            found.setdefault(item.share, []).append(item.name)
        return found

    assert by_class("amr.enterprise_registration") == {
        Share.UNCONDITIONAL: ["uscc", "name", "registered_capital", "status", "registration_date"],
        Share.CONDITIONAL: ["legal_representative"],
        Share.NOT_SHARED: ["inner_note"],
    }
    assert by_class("tax.tax_credit") == {
        Share.UNCONDITIONAL: ["uscc", "credit_rating"],
        Share.CONDITIONAL: ["tax_arrears"],
        Share.NOT_SHARED: ["audit_note"],
    }
    assert by_class("psb.resident") == {
        Share.UNCONDITIONAL: ["id_number", "gender"],
        Share.CONDITIONAL: ["name", "birth_date", "address"],
    }
    amr = catalog.resources["amr.enterprise_registration"]
    assert [i.name for i in amr.shared_items] == [
        "uscc", "name", "legal_representative", "registered_capital", "status",
        "registration_date",
    ]  # fmt: skip
    inner = amr.items_by_name["inner_note"]
    assert inner.basis == "《企业信息公示暂行条例》第十条"
    assert amr.items_by_name["legal_representative"].condition == "用于行政审批核验法定代表人身份"
    resident = catalog.resources["psb.resident"]
    assert {i.name: i.condition for i in resident.items if i.share is Share.CONDITIONAL} == {
        "name": "用于政务服务身份核验",
        "birth_date": "用于政务服务身份核验",
        "address": "用于政务服务身份核验",
    }


def test_the_test_catalog_item_details(catalog: Catalog) -> None:
    amr = catalog.resources["amr.enterprise_registration"]
    fields = {i.name: i.field for i in amr.items}
    assert fields == {
        "uscc": "uscc",
        "name": "name",
        "legal_representative": "legalRepresentative",
        "registered_capital": "registeredCapital",
        "status": "status",
        "registration_date": "registrationDate",
        "inner_note": "innerNote",
    }
    assert {i.name: i.type for i in amr.items if i.type != "string"} == {
        "registered_capital": "integer",
        "registration_date": "date",
    }
    assert amr.items_by_name["name"].normalize == ("nfkc", "strip")
    assert amr.items_by_name["uscc"].title == "统一社会信用代码"
    address = catalog.resources["psb.resident"].items_by_name["address"]
    assert address.mask == Mask(6, 0)
    assert address.field == "address"


@pytest.mark.parametrize(
    ("name", "field"),
    [("uscc", "uscc"), ("tax_arrears", "taxArrears"), ("a_b_c", "aBC"), ("x1_y2", "x1Y2")],
)
def test_camel(name: str, field: str) -> None:
    assert camel(name) == field


# --- masks ----------------------------------------------------------------------------


@given(
    text=st.text(min_size=0, max_size=40),
    keep_first=st.integers(min_value=0, max_value=12),
    keep_last=st.integers(min_value=0, max_value=12),
)
def test_mask_keeps_first_and_last_and_stars_the_rest(text: str, keep_first: int, keep_last: int) -> None:
    masked = Mask(keep_first, keep_last).apply(text)
    assert isinstance(masked, str) and len(masked) == len(text)
    hidden = len(text) - keep_first - keep_last
    if hidden <= 0:  # keeping that much would reveal the whole value
        assert masked == "*" * len(text)
        return
    assert masked[:keep_first] == text[:keep_first]
    assert masked[keep_first : keep_first + hidden] == "*" * hidden
    assert masked[len(text) - keep_last :] == text[len(text) - keep_last :]


@given(value=st.integers(min_value=10**9, max_value=10**12))
def test_mask_applies_to_numbers_as_text(value: int) -> None:
    masked = Mask(2, 2).apply(value)
    text = str(value)
    assert masked == text[:2] + "*" * (len(text) - 4) + text[-2:]


def test_mask_keeps_none() -> None:
    assert Mask(3, 4).apply(None) is None


def test_mask_examples() -> None:
    assert Mask(6, 4).apply("420102198503011231") == "420102********1231"
    assert Mask(6, 0).apply("武汉市江岸区某路1号") == "武汉市江岸区****"
    assert Mask(0, 0).apply("secret") == "******"


# --- every problem in one pass (issue 7, item 19) ---------------------------------------------


def test_every_problem_of_a_catalog_is_reported(tmp_path: Path) -> None:
    """Five independent mistakes in different places: one run names each, first one first."""
    text = TEST_CATALOG.read_text(encoding="utf-8")
    text = text.replace('region: "420100"', 'region: "160100"', 1)  # department 2: no such province
    text = text.replace("code: 11420000MB0000027U", "code: 11420000MB0000027X", 1)  # department 1: check char
    text = text.replace("update_cycle: daily", "update_cycle: hourly", 1)  # resource 0
    text = text.replace(
        "{name: registered_capital, title: 注册资本, type: integer}",
        "{name: registered_capital, title: 注册资本, type: money}",
        1,
    )  # resource 0, item 3
    text = text.replace("basis: 《企业信息公示暂行条例》第十条", "", 1)  # resource 0, item 6
    error = refusal(write(tmp_path, text))
    assert isinstance(error, CatalogErrors)
    paths = [e.path for e in error.errors]
    assert paths[:2] == ["departments[1].code", "departments[2].region"]
    assert set(paths) >= {
        "departments[1].code",
        "departments[2].region",
        "resources[0].update_cycle",
        "resources[0].items[3].type",
        "resources[0].items[6].basis",
    }
    assert (error.path, error.problem) == (error.errors[0].path, error.errors[0].problem)
    assert all(e.message in error.message for e in error.errors)


def test_one_problem_is_a_plain_catalog_error(tmp_path: Path) -> None:
    text = TEST_CATALOG.read_text(encoding="utf-8").replace("update_cycle: daily", "update_cycle: hourly", 1)
    error = refusal(write(tmp_path, text))
    assert not isinstance(error, CatalogErrors)
    assert error.path == "resources[0].update_cycle"


def test_problems_in_several_files_of_a_folder_are_all_reported(tmp_path: Path) -> None:
    folder = tmp_path / "catalog"
    shutil.copytree(FOLDERS / "split", folder)
    for file in folder.glob("*.yaml"):
        text = file.read_text(encoding="utf-8")
        if "departments" in text:
            text = text.replace("level:", "level: nowhere\n    oops:", 1)
        else:
            text = text.replace("subject:", "subject: everything\n    old_subject:", 1)
        file.write_text(text, "utf-8")
    error = refusal(folder)
    assert isinstance(error, CatalogErrors)
    assert len({e.file for e in error.errors}) == 2
