"""The platform database's grants, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from errors import BadRequest
from gateway.platform import PlatformDB, new_grant_row
from policies.codes import make_uscc
from policies.share import Mode

NOW = dt.datetime.now(dt.UTC)


def consumer() -> str:
    return make_uscc("1", "1", "420100", f"MC{uuid.uuid4().int % 10**6:06d}")


async def test_a_grant_round_trips_with_its_fields(platform: PlatformDB):
    who = consumer()
    until = NOW + dt.timedelta(days=30)
    added = await platform.add_grant(
        new_grant_row(
            who, "amr.enterprise_registration", ["b", "a"], "核验", until, [Mode.QUERY, Mode.COMPARE]
        )
    )
    [stored] = await platform.grants_for(who)
    assert stored == added
    assert stored.items == frozenset({"a", "b"})
    assert stored.modes == frozenset({Mode.QUERY, Mode.COMPARE})
    assert stored.valid_until == until  # timezone-aware on both engines
    assert stored.active_at(dt.datetime.now(dt.UTC))
    assert not stored.active_at(until)


async def test_grants_are_per_consumer(platform: PlatformDB):
    one, other = consumer(), consumer()
    await platform.add_grant(new_grant_row(one, "r.x", ["a"], "p", NOW + dt.timedelta(days=1)))
    assert await platform.grants_for(other) == []
    assert len(await platform.grants_for(one)) == 1


async def test_revocation_is_stored_and_effective(platform: PlatformDB):
    grant = await platform.add_grant(new_grant_row(consumer(), "r.x", ["a"], "p", NOW + dt.timedelta(days=1)))
    revoked = await platform.revoke_grant(grant.id)
    assert revoked.revoked and not revoked.active_at(dt.datetime.now(dt.UTC))
    [stored] = await platform.grants_for(grant.consumer)
    assert stored.revoked


@pytest.mark.parametrize(
    ("items", "purpose", "days", "fragment"),
    [
        ([], "p", 1, "at least one item"),
        (["a"], "  ", 1, "purpose"),
        (["a"], "p", -1, "end must come after"),
    ],
)
async def test_bad_grants_are_refused_and_nothing_is_stored(platform, items, purpose, days, fragment):
    who = consumer()
    with pytest.raises(BadRequest, match=fragment):
        await platform.add_grant(new_grant_row(who, "r.x", items, purpose, NOW + dt.timedelta(days=days)))
    assert await platform.grants_for(who) == []


async def test_revoking_an_unknown_grant_says_how_to_find_one(platform: PlatformDB):
    with pytest.raises(BadRequest, match="govshare grant list"):
        await platform.revoke_grant("grant-nope")


ADMITTED = [  # (already counted today, asked in order, cap) -> admitted prefix, counted after
    ((), ("A", "B", "C"), 5, 3, {"A", "B", "C"}),
    ((), ("A", "B", "C", "D"), 2, 2, {"A", "B"}),
    (("A", "B"), ("A", "B", "C"), 2, 2, {"A", "B"}),  # seen subjects pass, a new one does not
    (("A",), ("B", "A", "B", "C"), 2, 3, {"A", "B"}),  # a subject twice in a page counts once
    (("A", "B"), ("C", "A"), 2, 0, {"A", "B"}),  # stops at the first one refused
]


@pytest.mark.parametrize(("before", "asked", "cap", "admitted", "after"), ADMITTED)
async def test_admit_many_admits_the_prefix_the_cap_allows_and_counts_only_that(
    platform: PlatformDB, before, asked, cap, admitted, after
):
    from policies.decision import GrantConditions

    row = new_grant_row(consumer(), "amr.enterprise_registration", ["address"], "p",
                        NOW + dt.timedelta(days=1), conditions=GrantConditions(daily_cap=cap))  # fmt: skip
    grant = await platform.add_grant(row)
    today = dt.date(2026, 11, 30)
    for subject in before:
        assert await platform.admit(grant, subject, today)
    assert await platform.admit_many(grant, asked, today, count=False) == admitted
    assert await platform.admit_many(grant, asked, today) == admitted
    counted = [s for s in "ABCD" if await platform.admit(grant, s, today, count=False)]
    assert set(counted) == after | ({"A", "B", "C", "D"} if len(after) < cap else set())
