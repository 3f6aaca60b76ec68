"""Vouchers: signed over the audit receipt and the response digest, checkable offline."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from errors import Unauthenticated
from gateway.audit import AuditReceipt
from gateway.auth import Authenticator, load_signer, rotate_keys, voucher_keys
from gateway.vouchers import VOUCHER_KEY, issue_voucher, response_digest, verify_voucher

CONSUMER = "11420100MB00020220"
RECEIPT = AuditReceipt("audit-1", 1, "ab" * 32, "main", dt.datetime.now(dt.UTC))
RESPONSE = {"data": {"organization": {"taxCredit": {"creditRating": "A"}}}}


def vouched(data_dir: Path) -> dict:
    token = issue_voucher(load_signer(data_dir), RECEIPT, CONSUMER, response_digest(RESPONSE))
    return {**RESPONSE, "extensions": {VOUCHER_KEY: token}}


def test_a_voucher_verifies_against_the_response_it_came_with(tmp_path: Path):
    answer = vouched(tmp_path)
    check = verify_voucher(answer["extensions"][VOUCHER_KEY], answer, voucher_keys(tmp_path))
    assert check.ok, check.reason
    assert (check.claims["aid"], check.claims["ahash"], check.claims["sub"]) == (
        "audit-1",
        "ab" * 32,
        CONSUMER,
    )


def test_a_changed_response_fails(tmp_path: Path):
    answer = vouched(tmp_path)
    answer["data"]["organization"]["taxCredit"]["creditRating"] = "D"
    check = verify_voucher(answer["extensions"][VOUCHER_KEY], answer, voucher_keys(tmp_path))
    assert not check.ok and "differs" in check.reason


def test_a_forged_signature_fails(tmp_path: Path):
    answer = vouched(tmp_path)
    head, payload, signature = answer["extensions"][VOUCHER_KEY].split(".")
    forged = f"{head}.{payload}.{signature[:-4]}AAAA"
    assert not verify_voucher(forged, answer, voucher_keys(tmp_path)).ok
    other = tmp_path / "other"
    load_signer(other)  # another gateway's keys
    assert not verify_voucher(answer["extensions"][VOUCHER_KEY], answer, voucher_keys(other)).ok


def test_vouchers_outlive_the_key_that_signed_them(tmp_path: Path):
    answer = vouched(tmp_path)
    token = answer["extensions"][VOUCHER_KEY]
    later = time.time() + 10 * 365 * 86400
    rotate_keys(tmp_path, keep=0, now=later)  # supersedes the signing key
    rotation = rotate_keys(tmp_path, keep=0, now=later + 3600)  # and prunes it
    assert rotation.pruned
    assert not verify_voucher(token, answer, load_signer(tmp_path).jwks()).ok  # gone from token JWKS
    assert verify_voucher(token, answer, voucher_keys(tmp_path)).ok  # still checkable


# --- the fast canonical form is the canonical form -----------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gateway.audit import _canonical_slow, canonical_json, digest  # noqa: E402

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_json_fast_path_writes_the_same_bytes(value):
    try:
        slow = _canonical_slow(value)
    except ValueError:  # lone surrogates: refused on both paths
        return
    assert canonical_json(value) == slow


@pytest.mark.parametrize(
    "number", [1e-05, 2.5e-07, 1e16, 1e22, -0.0, 0.1, 1234567.89, 5e-324, 1.7976931348623157e308]
)
def test_floats_orjson_writes_otherwise_take_the_json_path(number):
    """json writes repr (1e-05, 1e+16), orjson 1e-5, 1e16: those must not go through orjson."""
    value = {"registration": {"regCapital": number, "name": "某公司"}, "n": [number, 1]}
    assert canonical_json(value) == _canonical_slow(value)
    assert str(number).encode() in canonical_json(value)


@given(st.dictionaries(st.text(), JSON_VALUES, max_size=5))
def test_response_digest_is_the_digest_of_the_answer_without_its_voucher(data):
    body = {"data": data, "extensions": {VOUCHER_KEY: "x.y.z"}}
    try:
        expected = digest({"data": data})
    except ValueError:
        return
    assert response_digest(body) == expected


async def test_a_pruned_key_stops_verifying_remembered_tokens(tmp_path: Path):
    """Removing a key from keys.json takes effect within the reload interval, memo or not."""
    signer = load_signer(tmp_path)
    signer.reload_interval = 0  # look at keys.json on every request
    authenticator = Authenticator.create(signer)
    token = signer.issue(CONSUMER, ["consumer"], "test", 3600)
    assert (await authenticator.authenticate(token)).department == CONSUMER  # now remembered
    later = time.time() + 10 * 365 * 86400
    rotate_keys(tmp_path, keep=0, now=later)
    rotate_keys(tmp_path, keep=0, now=later + 3600)  # the signing key is gone
    with pytest.raises(Unauthenticated):
        await authenticator.authenticate(token)
    await authenticator.close()
