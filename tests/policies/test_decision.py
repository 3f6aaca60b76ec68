"""Tests for policies.decision: who may have which item, in which mode, for which purpose.

The properties run ``plan_access`` over generated in-memory catalogs and grants and
compare every decision with a model written from the rules in DESIGN.md section 5;
the tables pin the error codes and the detail each error carries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import (
    AccessDenied,
    ApplicationRequired,
    BadRequest,
    ConditionalAccessRequired,
    GrantExpired,
    ModeNotAllowed,
    NotShared,
    PurposeRequired,
)
from policies.catalog import Catalog, Department, Item, Resource
from policies.decision import (
    AccessPlan,
    AccessRequest,
    Consumer,
    Grant,
    canonical_purpose,
    check_grantable,
    decide_item,
    has_purpose,
    plan_access,
    same_purpose,
)
from policies.profile import load_profile, profile_names
from policies.share import Mode, Share

NOW = dt.datetime(2025, 6, 2, 10, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
PROVIDER = "11420000MB00000191"
CONSUMERS = ("11420000MB0000027U", "11420100MB0000035U", "12330100000000000E")
PURPOSES = ("行政审批核验", "信用 监管", "audit of licence 2025")
# Unicode White_Space (PropList.txt), every code point, written out from the standard.
UNICODE_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u180e"  # zero-width: dropped, separate nothing
WHITESPACE = (" ", "  ", "\t", "\u3000", " \u3000 ", *UNICODE_WHITE_SPACE)
ALL_MODES = tuple(Mode)
BLANK_PURPOSES = (None, "", " ", "\t\n", "\u3000", " \u3000 ", UNICODE_WHITE_SPACE, "\u200b", "\ufeff\u2060 ")
FEW = settings(max_examples=40)
# Validity windows of generated grants, in hours from NOW: active, active from this very
# moment, ending at this very moment (expired), expired, not yet valid, inverted.
ACTIVE = ((-2, 2), (0, 1))
WINDOWS = (*ACTIVE, (-2, 0), (-3, -1), (1, 3), (2, -2))
SPOILS = ("window", "nothing", "consumer", "resource", "item", "mode", "purpose", "revoked")


# --- generated worlds -----------------------------------------------------------------


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def spellings(draw: st.DrawFn, base: str) -> str:
    """The same purpose as typed by someone else: other whitespace, full-width forms."""
    words = base.split(" ")
    text = words[0]
    for word in words[1:]:
        text += draw(st.sampled_from(WHITESPACE)) + word
    if draw(st.booleans()):
        text = full_width(text)
    lead = draw(st.sampled_from(("", *WHITESPACE)))
    trail = draw(st.sampled_from(("", *WHITESPACE)))
    return lead + text + trail


@dataclass(frozen=True)
class GrantFacts:
    """What the model knows about a grant, independently of the product's helpers."""

    purpose: int  # index into PURPOSES
    starts: int  # hours from NOW
    ends: int


@dataclass
class World:
    catalog: Catalog
    grants: list[Grant]
    facts: dict[str, GrantFacts]
    request: AccessRequest
    purpose: int  # index into PURPOSES of the request's purpose
    wanted: dict[str, list[str]]


def department(code: str) -> Department:
    return Department(code, f"部门{code[-4:]}", "420000", "province", {"kind": "mock"})


def make_item(name: str, share: Share) -> Item:
    return Item(
        name=name,
        title=f"事项{name}",
        type="string",
        share=share,
        condition="用于核验" if share is Share.CONDITIONAL else None,
        basis=f"《某条例》第{len(name)}条" if share is Share.NOT_SHARED else None,
    )


@st.composite
def resources(draw: st.DrawFn, index: int) -> Resource:
    names = draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6, unique=True))
    shares = draw(st.lists(st.sampled_from(Share), min_size=len(names), max_size=len(names)))
    modes = draw(st.frozensets(st.sampled_from(ALL_MODES), min_size=1))
    items = tuple(make_item(f"item_{n}", s) for n, s in zip(names, shares, strict=True))
    return Resource(
        id=f"dept{index}.resource_{index}",
        code=f"420000-R-{index:03d}",
        name=f"资源{index}",
        provider=PROVIDER,
        subject="organization",
        key=items[0].name,
        share=Share.UNCONDITIONAL,
        items=items,
        source={"table": f"t{index}"},
        modes=modes,
    )


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    count = draw(st.integers(min_value=1, max_value=3))
    found = [draw(resources(i)) for i in range(count)]
    departments = {code: department(code) for code in (PROVIDER, *CONSUMERS)}
    profile = draw(st.sampled_from(profile_names()))  # open or on_application (issue 10 section 2)
    return Catalog(profile, departments, {r.id: r for r in found})


@st.composite
def grants_for(
    draw: st.DrawFn, catalog: Catalog, consumer: str, mode: Mode, purpose: int
) -> tuple[list[Grant], dict[str, GrantFacts]]:
    """Grants that would cover the request but for at most one spoiled attribute."""
    grants: list[Grant] = []
    facts: dict[str, GrantFacts] = {}
    for n in range(draw(st.sampled_from((2, 1, 3, 0, 4)))):
        spoil = draw(st.sampled_from(SPOILS))
        rid = draw(st.sampled_from(list(catalog.resources)))
        names = {item.name for item in catalog.resources[rid].items}
        if spoil == "item":
            names.discard(draw(st.sampled_from(sorted(names))))
        if spoil == "resource":
            others = [r for r in catalog.resources if r != rid]
            rid = draw(st.sampled_from([*others, "other.unknown_resource"]))
        modes = draw(st.frozensets(st.sampled_from(ALL_MODES)))
        modes = modes - {mode} if spoil == "mode" else modes | {mode}
        starts, ends = draw(st.sampled_from(WINDOWS if spoil == "window" else ACTIVE))
        others = [p for p in range(len(PURPOSES)) if p != purpose]
        fact = GrantFacts(draw(st.sampled_from(others)) if spoil == "purpose" else purpose, starts, ends)
        grant = Grant(
            id=f"APP-{n}",
            consumer=draw(st.sampled_from([c for c in CONSUMERS if c != consumer]))
            if spoil == "consumer"
            else consumer,
            resource=rid,
            items=frozenset(names),
            modes=modes,
            purpose=draw(spellings(PURPOSES[fact.purpose])),
            valid_from=NOW + fact.starts * HOUR,
            valid_until=NOW + fact.ends * HOUR,
            revoked=spoil == "revoked",
        )
        grants.append(grant)
        facts[grant.id] = fact
    return grants, facts


@st.composite
def worlds(draw: st.DrawFn) -> World:
    catalog = draw(catalogs())
    consumer = draw(st.sampled_from(CONSUMERS))
    mode = draw(st.sampled_from(ALL_MODES))
    purpose = draw(st.integers(min_value=0, max_value=len(PURPOSES) - 1))
    grants, facts = draw(grants_for(catalog, consumer, mode, purpose))
    application_ids = [None, None, "APP-404", *(g.id for g in grants)]
    request = AccessRequest(
        consumer=Consumer(consumer, "client-1", frozenset({"consumer"})),
        purpose=draw(spellings(PURPOSES[purpose])),
        mode=mode,
        now=NOW,
        application_id=draw(st.sampled_from(application_ids)),
        onboarded=True,  # onboarding (Sanya art. 12) is tested in tests/policies/test_profile_rules.py
    )
    wanted: dict[str, list[str]] = {}
    for rid, resource in catalog.resources.items():
        names = [i.name for i in resource.items]
        chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=8))
        if draw(st.booleans()) or not wanted:
            wanted[rid] = chosen  # may repeat a name: the plan decides each once
    return World(catalog, grants, facts, request, purpose, wanted)


# --- the model ------------------------------------------------------------------------


def expected_code(world: World, resource: Resource, item: Item) -> str | None:
    """None when the item may be returned, else the error code the rules call for."""
    request = world.request
    if item.share is Share.NOT_SHARED:
        return "NOT_SHARED"
    if request.mode not in resource.modes:
        return "MODE_NOT_ALLOWED"
    on_application = load_profile(world.catalog.profile).access.unconditional_access == "on_application"
    if item.share is Share.UNCONDITIONAL and not on_application:
        return None
    refused = "APPLICATION_REQUIRED" if item.share is Share.UNCONDITIONAL else "CONDITIONAL_ACCESS_REQUIRED"
    covering = [
        g
        for g in world.grants
        if g.consumer == request.consumer.department
        and g.resource == resource.id
        and item.name in g.items
        and request.mode in g.modes
    ]
    defects = {g.id: model_defects(world, g, item.share is Share.UNCONDITIONAL) for g in covering}
    if any(not found for found in defects.values()):
        return None
    if not covering:
        return refused
    best = min(covering, key=lambda g: model_rank(world, g, defects[g.id]))
    return "GRANT_EXPIRED" if defects[best.id][0] == "expired" else refused


def model_defects(world: World, grant: Grant, unconditional: bool = False) -> list[str]:
    """Revoked, expired (a new grant cures it), not yet valid (waiting does), then the
    request's own application id and purpose (the consumer cures them by itself); for an
    unconditional item read on application only the grant's own state."""
    fact, app = world.facts[grant.id], world.request.application_id
    found = {
        "revoked": grant.revoked,
        "expired": fact.ends <= 0,
        "not_yet_valid": fact.starts > 0,
        "application": app is not None and grant.id != app and not unconditional,
        "purpose": fact.purpose != world.purpose and not unconditional,
    }
    return [reason for reason, present in found.items() if present]


def model_rank(world: World, grant: Grant, defects: list[str]) -> tuple[int, int, bool, str]:
    cost = {"revoked": 3, "expired": 3, "not_yet_valid": 2, "application": 1, "purpose": 1}
    return max(cost[d] for d in defects), len(defects), grant.id != world.request.application_id, grant.id


def plan(world: World) -> AccessPlan:
    return plan_access(world.request, world.catalog, world.wanted, world.grants)


# --- properties -----------------------------------------------------------------------


@settings(max_examples=200)
@given(worlds())
def test_every_decision_follows_the_rules(world: World) -> None:
    """(a) not_shared never, (b) conditional iff an active covering grant, (c) unconditional
    in any offered mode, (d) allowed and denied partition what was wanted."""
    result = plan(world)
    assert_partition(world, result)
    for rid, names in world.wanted.items():
        resource = world.catalog.resources[rid]
        decided = result.resources[rid]
        for name in set(names):
            code = expected_code(world, resource, resource.items_by_name[name])
            if code is None:
                assert name in decided.allowed, f"{rid}.{name} should be allowed"
            else:
                assert name in decided.denied, f"{rid}.{name} should be denied ({code})"
                assert decided.denied[name].extensions["code"] == code


def assert_partition(world: World, result: AccessPlan) -> None:
    assert set(result.resources) == set(world.wanted)
    for rid, names in world.wanted.items():
        decided = result.resources[rid]
        assert decided.resource is world.catalog.resources[rid]
        assert not set(decided.allowed) & set(decided.denied)
        assert set(decided.allowed) | set(decided.denied) == set(names)
        assert list(decided.allowed) == sorted(set(decided.allowed))
    assert len(result.denials()) == sum(len(p.denied) for p in result.resources.values())


@FEW
@given(worlds(), st.sampled_from(ALL_MODES), st.booleans())
def test_a_not_shared_item_is_never_allowed(world: World, mode: Mode, named: bool) -> None:
    """Even under grants naming it, in every mode, for every purpose and consumer."""
    request = replace(world.request, mode=mode)
    for resource in world.catalog.resources.values():
        for item in resource.items:
            if item.share is not Share.NOT_SHARED:
                continue
            everything = Grant(
                id="APP-ALL",
                consumer=request.consumer.department,
                resource=resource.id,
                items=frozenset(i.name for i in resource.items),
                modes=frozenset(Mode),
                purpose=request.purpose or "",
                valid_from=NOW - 100 * HOUR,
                valid_until=NOW + 100 * HOUR,
            )
            asked = replace(request, application_id="APP-ALL" if named else None)
            error = decide_item(asked, world.catalog, resource, item, [*world.grants, everything])
            assert isinstance(error, NotShared)
            assert error.extensions["basis"] == item.basis
            assert item.basis and item.basis in error.message


@FEW
@given(worlds())
def test_an_unconditional_item_is_allowed_for_anyone_in_an_offered_mode(world: World) -> None:
    """Where the profile says ``unconditional_access: open``; under ``on_application`` a
    department without a grant is refused APPLICATION_REQUIRED (Hubei art. 13; Zhejiang art. 26)."""
    open_access = load_profile(world.catalog.profile).access.unconditional_access == "open"
    for consumer in CONSUMERS:
        request = replace(world.request, consumer=Consumer(consumer, "any", frozenset()), application_id=None)
        for resource in world.catalog.resources.values():
            for item in resource.items:
                if item.share is not Share.UNCONDITIONAL:
                    continue
                error = decide_item(request, world.catalog, resource, item, [])
                if request.mode in resource.modes and not open_access:
                    assert isinstance(error, ApplicationRequired)
                elif request.mode in resource.modes:
                    assert error is None
                else:
                    assert isinstance(error, ModeNotAllowed)


@FEW
@given(worlds(), st.sampled_from(BLANK_PURPOSES))
def test_a_blank_purpose_is_refused_when_anything_is_wanted(world: World, purpose: str | None) -> None:
    request = replace(world.request, purpose=purpose)
    with pytest.raises(PurposeRequired) as caught:
        plan_access(request, world.catalog, world.wanted, world.grants)
    assert caught.value.extensions == {"code": "PURPOSE_REQUIRED", "header": "X-Purpose"}
    assert "X-Purpose" in caught.value.message
    assert caught.value.status == 400


@FEW
@given(catalogs(), st.sampled_from(BLANK_PURPOSES))
def test_a_blank_purpose_is_fine_when_nothing_is_wanted(catalog: Catalog, purpose: str | None) -> None:
    request = replace(ask(), purpose=purpose)
    assert plan_access(request, catalog, {}, [grant()]).resources == {}


def test_a_blank_purpose_is_fine_when_resources_are_named_without_items() -> None:
    """Regression: {rid: ()} wants nothing, so it needs no purpose."""
    catalog = fixed_catalog()
    request = replace(ask(), purpose=None)
    result = plan_access(request, catalog, {AMR: ()}, [])
    assert result.resources[AMR].allowed == () and not result.resources[AMR].denied


@given(st.sampled_from(PURPOSES).flatmap(lambda p: st.tuples(spellings(p), spellings(p))))
def test_purposes_compare_by_nfkc_and_whitespace(pair: tuple[str, str]) -> None:
    assert same_purpose(*pair)


@given(st.sampled_from(PURPOSES), st.sampled_from(PURPOSES), st.data())
def test_different_purposes_stay_different(a: str, b: str, data: st.DataObject) -> None:
    assert same_purpose(data.draw(spellings(a)), data.draw(spellings(b))) == (a == b)


# --- tables ---------------------------------------------------------------------------

AMR = "amr.enterprise_registration"
CONSUMER = CONSUMERS[0]
PURPOSE = "行政审批核验"


def fixed_catalog(profile: str = "hubei") -> Catalog:
    items = (
        make_item("uscc", Share.UNCONDITIONAL),
        Item("legal_rep", "法定代表人", "string", Share.CONDITIONAL, condition="用于审批核验"),
        Item("inner_note", "内部备注", "string", Share.NOT_SHARED, basis="《企业信息公示暂行条例》第十条"),
    )  # fmt: skip
    resource = Resource(
        id=AMR, code="420000-AMR-001", name="企业登记信息", provider=PROVIDER,
        subject="organization", key="uscc", share=Share.UNCONDITIONAL, items=items,
        source={"table": "enterprise"}, modes=frozenset({Mode.QUERY, Mode.COMPARE}),
    )  # fmt: skip
    departments = {code: department(code) for code in (PROVIDER, *CONSUMERS)}
    return Catalog(profile, departments, {AMR: resource})


def grant(**changes: object) -> Grant:
    base = Grant(
        id="APP-1",
        consumer=CONSUMER,
        resource=AMR,
        items=frozenset({"legal_rep"}),
        modes=frozenset({Mode.QUERY}),
        purpose=PURPOSE,
        valid_from=NOW - 24 * HOUR,
        valid_until=NOW + 24 * HOUR,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def ask(**changes: object) -> AccessRequest:
    base = AccessRequest(Consumer(CONSUMER, "client-1", frozenset({"consumer"})), PURPOSE, Mode.QUERY, NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


def decide(name: str, grants: Sequence[Grant], request: AccessRequest | None = None) -> AccessDenied | None:
    """The decision for one item of the fixed catalog, through plan_access."""
    result = plan_access(request or ask(), fixed_catalog(), {AMR: [name]}, grants)
    return result.resources[AMR].denied.get(name)


def assert_detail(error: AccessDenied, item: str) -> None:
    detail: Mapping[str, object] = error.extensions
    assert detail["resource"] == AMR
    assert detail["item"] == item
    assert detail["provider"] == PROVIDER
    assert detail["providerName"] == department(PROVIDER).name
    assert error.status == 403


@pytest.mark.parametrize(
    "grants",
    [
        [grant()],
        [grant(purpose=" 行政审批核验\u3000")],
        [grant(valid_from=NOW)],  # valid from now on
        [grant(valid_until=NOW - HOUR), grant(id="APP-2")],  # an old one and a renewal
        [grant(modes=frozenset(Mode)), grant(consumer=CONSUMERS[1], revoked=True)],
    ],
)
def test_a_conditional_item_is_allowed_under_an_active_grant(grants: list[Grant]) -> None:
    assert decide("legal_rep", grants) is None


@pytest.mark.parametrize(
    "grants",
    [
        [grant(valid_until=NOW)],
        [grant(valid_until=NOW - HOUR)],
        [grant(valid_until=NOW), grant(revoked=True)],
        [grant(purpose="信用监管", valid_until=NOW - HOUR)],  # a renewal is applied for the purpose
    ],
)
def test_an_expired_matching_grant_is_grant_expired(grants: list[Grant]) -> None:
    error = decide("legal_rep", grants)
    assert isinstance(error, GrantExpired)
    assert error.code == "GRANT_EXPIRED"
    assert_detail(error, "legal_rep")
    assert "expired" in error.message and "apply again" in error.message


@pytest.mark.parametrize(
    ("grants", "reason"),
    [
        ([], "no_grant"),
        ([grant(consumer=CONSUMERS[1])], "no_grant"),
        ([grant(resource="tax.tax_credit")], "no_grant"),
        ([grant(items=frozenset({"uscc"}))], "no_grant"),
        ([grant(modes=frozenset({Mode.COMPARE}))], "no_grant"),
        ([grant(purpose="信用监管")], "purpose"),
        ([grant(purpose="行政 审批核验")], "purpose"),
        ([grant(revoked=True, valid_until=NOW - HOUR)], "revoked"),
    ],
)
def test_a_conditional_item_without_a_usable_grant(grants: list[Grant], reason: str | None) -> None:
    error = decide("legal_rep", grants)
    assert isinstance(error, ConditionalAccessRequired)
    assert error.code == "CONDITIONAL_ACCESS_REQUIRED"
    assert_detail(error, "legal_rep")
    assert error.extensions["condition"] == "用于审批核验"
    if reason is not None:
        assert error.extensions["reason"] == reason
    if reason == "purpose":
        assert PURPOSE in error.message and "X-Purpose" in error.message
    if reason == "no_grant":
        assert "用于审批核验" in error.message and "Apply" in error.message


@pytest.mark.parametrize(
    ("stale", "reason"),
    [
        ([grant(revoked=True)], "revoked"),
        ([grant(valid_from=NOW + HOUR)], "not_yet_valid"),
        ([grant(revoked=True), grant(id="APP-2", valid_from=NOW + HOUR)], "not_yet_valid"),
    ],
)
def test_a_revoked_or_future_grant_is_not_blamed_on_the_purpose(stale: list[Grant], reason: str) -> None:
    error = decide("legal_rep", stale)
    assert isinstance(error, ConditionalAccessRequired)
    assert error.extensions["reason"] == reason
    assert "purpose" not in error.message


@pytest.mark.parametrize(
    ("application_id", "allowed"),
    [
        (None, True),
        ("APP-2", True),
        ("APP-1", False),  # the named grant is for another purpose
        ("APP-3", False),  # the named grant belongs to another consumer
        ("APP-404", False),
    ],
)
def test_a_named_application_is_the_only_grant_relied_on(application_id: str | None, allowed: bool) -> None:
    grants = [
        grant(id="APP-1", purpose="信用监管"),
        grant(id="APP-2"),
        grant(id="APP-3", consumer=CONSUMERS[1]),
    ]
    error = decide("legal_rep", grants, ask(application_id=application_id))
    assert (error is None) == allowed
    if not allowed:
        assert isinstance(error, ConditionalAccessRequired)


@pytest.mark.parametrize("name", ["uscc", "legal_rep"])
def test_a_mode_the_resource_does_not_offer_is_mode_not_allowed(name: str) -> None:
    error = decide(name, [grant(modes=frozenset(Mode))], ask(mode=Mode.BULK))
    assert isinstance(error, ModeNotAllowed)
    assert error.code == "MODE_NOT_ALLOWED"
    assert error.extensions["mode"] == "bulk"
    assert_detail(error, name)
    assert "compare, query" in error.message


@pytest.mark.parametrize("mode", list(Mode))
def test_not_shared_cites_the_basis(mode: Mode) -> None:
    everything = grant(items=frozenset({"inner_note", "legal_rep"}), modes=frozenset(Mode))
    error = decide("inner_note", [everything], ask(mode=mode))
    assert isinstance(error, NotShared)
    assert error.code == "NOT_SHARED"
    assert error.extensions["basis"] == "《企业信息公示暂行条例》第十条"
    assert "《企业信息公示暂行条例》第十条" in error.message and "内部备注" in error.message
    assert_detail(error, "inner_note")


def test_a_plan_lists_every_denial_and_fetches_only_allowed_items() -> None:
    # shanghai: unconditional items are open (art. 14); under hubei uscc would need a grant too
    catalog = fixed_catalog("shanghai")
    result = plan_access(ask(), catalog, {AMR: ["inner_note", "uscc", "legal_rep", "uscc"]}, [])
    decided = result.resources[AMR]
    assert decided.allowed == ("uscc",)
    assert set(decided.denied) == {"inner_note", "legal_rep"}
    assert sorted(e.code for e in result.denials()) == ["CONDITIONAL_ACCESS_REQUIRED", "NOT_SHARED"]


def test_grants_of_other_consumers_are_ignored_by_the_plan() -> None:
    grants = [grant(consumer=CONSUMERS[1]), grant(id="APP-2", consumer=CONSUMERS[2])]
    decided = plan_access(ask(), fixed_catalog(), {AMR: ["legal_rep"]}, grants).resources[AMR]
    assert decided.allowed == ()
    assert decided.denied["legal_rep"].extensions["reason"] == "no_grant"


# --- check_grantable ------------------------------------------------------------------


def test_a_grantable_request_passes() -> None:
    check_grantable(fixed_catalog(), AMR, ["legal_rep", "uscc"], [Mode.QUERY, Mode.COMPARE])


@pytest.mark.parametrize(
    ("resource", "items", "modes", "error", "text"),
    [
        ("amr.unknown", ["legal_rep"], [Mode.QUERY], BadRequest, "unknown resource 'amr.unknown'"),
        (AMR, ["legal_rep", "shoe_size"], [Mode.QUERY], BadRequest,
         "no item 'shoe_size'; known: uscc, legal_rep, inner_note"),
        (AMR, ["inner_note"], [Mode.QUERY], NotShared, "cannot be granted"),
        (AMR, ["legal_rep"], [Mode.QUERY, Mode.BULK], ModeNotAllowed, "not offered in mode bulk"),
    ],
)  # fmt: skip
def test_check_grantable_refuses(
    resource: str, items: list[str], modes: list[Mode], error: type[Exception], text: str
) -> None:
    with pytest.raises(error) as caught:
        check_grantable(fixed_catalog(), resource, items, modes)
    assert type(caught.value) is error
    assert text in str(caught.value)
    if error is NotShared:
        assert caught.value.extensions["basis"] == "《企业信息公示暂行条例》第十条"
    if error is ModeNotAllowed:
        assert caught.value.extensions["mode"] == "bulk"


# --- purposes: whitespace of every kind (issue 7, item 20) ---------------------------------------

words = st.lists(
    st.text(alphabet="行政审批核验信用监管abcXYZ019", min_size=1, max_size=4), min_size=1, max_size=4
)
gaps = st.text(alphabet=UNICODE_WHITE_SPACE + INVISIBLE, min_size=1, max_size=3).filter(
    lambda gap: any(ch in UNICODE_WHITE_SPACE for ch in gap)
)
edges = st.text(alphabet=UNICODE_WHITE_SPACE + INVISIBLE, max_size=3)


@given(words, st.data())
def test_a_purpose_matches_whatever_whitespace_separates_its_words(
    parts: list[str], data: st.DataObject
) -> None:
    folded = " ".join(parts)
    spelled = data.draw(edges) + parts[0]
    for part in parts[1:]:
        spelled += data.draw(gaps) + part
    spelled += data.draw(edges)
    assert same_purpose(spelled, folded) and same_purpose(folded, spelled)
    assert canonical_purpose(spelled) == folded


@given(st.text())
def test_canonical_purpose_is_idempotent_and_plain(text: str) -> None:
    once = canonical_purpose(text)
    assert canonical_purpose(once) == once
    assert once == once.strip(" ") and "  " not in once
    assert not any(ch.isspace() and ch != " " for ch in once)
    assert not any(ch in INVISIBLE for ch in once)
    assert has_purpose(text) is bool(once)


@pytest.mark.parametrize("space", list(UNICODE_WHITE_SPACE), ids=lambda ch: f"U+{ord(ch):04X}")
def test_the_issues_example_every_space_as_the_ideographic_one(space: str) -> None:
    """A grant written with the space folded serves a request spelled with any other space."""
    grants = [grant(purpose="行政审批 核验")]
    assert decide("legal_rep", grants, ask(purpose=f"行政审批{space}核验")) is None
    assert decide("legal_rep", [grant(purpose=f"行政审批{space}核验")], ask(purpose="行政审批 核验")) is None


def test_invisible_characters_are_dropped_not_made_spaces() -> None:
    assert same_purpose("行政审批\u200b核验", "行政审批核验")
    assert not same_purpose("行政审批\u3000核验", "行政审批核验")  # a visible space still separates
