"""``verify_package`` on hostile files: a package someone else made or changed is checked
offline, so every way a ZIP can lie (duplicate names, compression bombs, members that
cannot be decompressed, a JWS that is not a package signature) must end as a named problem,
never as an exception or an ``ok``, and without reading more than the manifest vouches for.

Packages are built here as the gateway builds them (``manifest_bytes``, ``sign_manifest``
with a real key set in a temporary data folder) and then altered member by member.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import tracemalloc
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from joserfc import jws

from gateway.auth import ALGORITHM, Signer, load_signer
from gateway.package import (
    MANIFEST,
    MAX_MANIFEST_BYTES,
    SIGNATURE,
    PackageHeader,
    manifest_bytes,
    sign_manifest,
    verify_package,
)

DATA = b"".join(b'{"uscc":"9142010%dMA0000007H","name":"x"}\n' % i for i in range(5))
Members = list[tuple[str, bytes]]


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    return load_signer(tmp_path_factory.mktemp("keys"))


def header() -> PackageHeader:
    return PackageHeader(
        resource={"id": "amr.enterprise_registration"},
        items=["uscc", "name"],
        titles={"uscc": "统一社会信用代码", "name": "企业名称"},
        filters={},
        consumer="11420100MB00020220",
        client="c",
        purpose="p",
        grants=[],
        audit_id="audit-1",
    )


def members(signer: Signer, data: bytes = DATA) -> Members:
    """The three members of a genuine package over ``data`` (NDJSON)."""
    entry = {"file": "data.ndjson", "format": "ndjson", "sha256": hashlib.sha256(data).hexdigest(),
             "bytes": len(data), "rows": data.count(b"\n")}  # fmt: skip
    manifest = manifest_bytes(header(), entry, None, None)
    return [
        ("data.ndjson", data),
        (MANIFEST, manifest),
        (SIGNATURE, sign_manifest(signer, manifest).encode()),
    ]


def zipped(entries: Iterable[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": made on purpose
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def check(signer: Signer, content: bytes) -> list[str]:
    return verify_package(io.BytesIO(content), signer.jwks()).problems


def replaced(entries: Members, name: str, data: bytes) -> Members:
    return [(n, data if n == name else d) for n, d in entries]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_genuine_package_verifies(signer):
    assert check(signer, zipped(members(signer))) == []


@pytest.mark.parametrize("first", [True, False], ids=["forged-first", "forged-last"])
def test_a_member_name_twice_is_a_problem_whichever_copy_is_genuine(signer, first):
    """ZIP tools disagree on which copy of a duplicated name they show or extract: a package
    whose genuine copy verifies may open on the consumer's desk with the forged one."""
    forged = ("data.ndjson", b'{"uscc":"forged"}\n' * 5)
    genuine = members(signer)
    problems = check(signer, zipped([forged, *genuine] if first else [*genuine, forged]))
    assert any("2 copies of 'data.ndjson'" in p for p in problems), problems


def flag_members(content: bytes, offsets: dict[bytes, int], value: int, *, field: str = "<H") -> bytes:
    """Every local and central header with its field at ``offsets[signature]`` set to ``value``
    (``field="or"``: the flag bits OR-ed with it)."""
    raw = bytearray(content)
    for signature, offset in offsets.items():
        at = raw.find(signature)
        while at >= 0:
            if field == "or":
                raw[at + offset] |= value
            else:
                raw[at + offset : at + offset + 2] = struct.pack(field, value)
            at = raw.find(signature, at + 4)
    return bytes(raw)


def corrupt_deflate(content: bytes) -> bytes:
    raw = bytearray(content)
    start = raw.find(b"data.ndjson") + len(b"data.ndjson")
    raw[start : start + 24] = b"\x00" * 24  # inside the deflated data of the first member
    return bytes(raw)


def header_of(payload: bytes) -> bytes:
    return f"{b64(payload)}.e30.AAAA".encode()


HOSTILE = {
    "deflate-stream-corrupt": lambda s: corrupt_deflate(zipped(members(s))),
    "compression-method-unknown": lambda s: flag_members(
        zipped(members(s), zipfile.ZIP_STORED), {b"PK\x03\x04": 8, b"PK\x01\x02": 10}, 99
    ),
    "members-encrypted": lambda s: flag_members(
        zipped(members(s)), {b"PK\x03\x04": 6, b"PK\x01\x02": 8}, 1, field="or"
    ),
    "jws-header-a-list": lambda s: zipped(replaced(members(s), SIGNATURE, header_of(b"[1]"))),
    "jws-header-a-string": lambda s: zipped(replaced(members(s), SIGNATURE, header_of(b'"kid"'))),
    "jws-header-not-json": lambda s: zipped(replaced(members(s), SIGNATURE, header_of(b"\xff{"))),
    "manifest-a-list": lambda s: zipped(replaced(members(s), MANIFEST, b"[1, 2]")),
    "manifest-data-a-list": lambda s: zipped(replaced(members(s), MANIFEST, b'{"data": {"file": []}}')),
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_members_are_named_problems_not_exceptions(signer, make):
    problems = check(signer, make(signer))
    assert problems and all(isinstance(p, str) and p for p in problems)


def test_an_unreadable_member_is_named(signer):
    problems = check(signer, corrupt_deflate(zipped(members(signer))))
    assert any(p.startswith("data.ndjson cannot be read") for p in problems), problems


def test_encrypted_members_are_named(signer):
    encrypted = flag_members(zipped(members(signer)), {b"PK\x03\x04": 6, b"PK\x01\x02": 8}, 1, field="or")
    assert any("encrypted" in p for p in check(signer, encrypted))


def peak_bytes(signer: Signer, content: bytes) -> tuple[list[str], int]:
    tracemalloc.start()
    try:
        problems = check(signer, content)
        return problems, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_manifest_bomb_is_refused_without_inflating_it(signer):
    bomb = b" " * (64 << 20)  # 64 MiB of spaces deflate to ~64 kB
    problems, peak = peak_bytes(signer, zipped(replaced(members(signer), MANIFEST, bomb)))
    assert any(MANIFEST in p and f"{MAX_MANIFEST_BYTES:,}" in p for p in problems), problems
    assert peak < 8 << 20, peak


def test_a_data_bomb_is_not_read_past_the_size_the_manifest_vouches_for(signer):
    genuine = members(signer)
    bomb = DATA + b"\n" * (256 << 20)  # a quarter GiB of line ends behind the genuine rows
    problems, peak = peak_bytes(signer, zipped(replaced(genuine, "data.ndjson", bomb)))
    assert any(f"more than {len(DATA) + MAX_MANIFEST_BYTES:,} bytes" in p for p in problems), problems
    assert peak < 8 << 20, peak


def test_a_jws_of_another_type_is_not_a_package_signature(signer):
    """RFC 8725 section 3.11: the same key signs vouchers and tokens; only a JWS typed as a
    package signature vouches for a manifest."""
    entries = members(signer)
    manifest = dict(entries)[MANIFEST]
    key = signer.current
    other = jws.serialize_compact(
        {"alg": ALGORITHM, "kid": key.kid, "typ": "govshare-voucher"}, manifest, key
    )
    problems = check(signer, zipped(replaced(entries, SIGNATURE, other.encode())))
    assert any("govshare-package+jws" in p for p in problems), problems


def test_the_cli_names_a_hostile_package_and_exits_1(signer, tmp_path: Path, capsys):
    from gateway.cli import main

    (tmp_path / "p.zip").write_bytes(corrupt_deflate(zipped(members(signer))))
    (tmp_path / "jwks.json").write_text(json.dumps(signer.jwks()))
    assert main(["package", "verify", str(tmp_path / "p.zip"), "--jwks", str(tmp_path / "jwks.json")]) == 1
    assert "data.ndjson cannot be read" in capsys.readouterr().err


def test_the_cli_summary_says_when_a_package_is_incomplete(signer, tmp_path: Path, capsys):
    """A package a daily cap stopped verifies (it is what was sent) but is not the whole
    export: the summary says so, as the manifest does, so no one takes it for a full copy."""
    from gateway.cli import main

    entry = {"file": "data.ndjson", "format": "ndjson", "sha256": hashlib.sha256(DATA).hexdigest(),
             "bytes": len(DATA), "rows": 5}  # fmt: skip
    manifest = manifest_bytes(header(), entry, "91420104MA0000007H", "daily_cap")
    entries = [
        ("data.ndjson", DATA),
        (MANIFEST, manifest),
        (SIGNATURE, sign_manifest(signer, manifest).encode()),
    ]
    (tmp_path / "p.zip").write_bytes(zipped(entries))
    (tmp_path / "jwks.json").write_text(json.dumps(signer.jwks()))
    assert main(["package", "verify", str(tmp_path / "p.zip"), "--jwks", str(tmp_path / "jwks.json")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True and summary["complete"] is False and summary["stopped"] == "daily_cap"
    assert summary["lastKey"] == "91420104MA0000007H"


@pytest.mark.parametrize("jwks", [{}, [], "x", {"keys": "x"}, {"keys": None}])
def test_a_jwks_without_a_keys_list_is_named_as_such(signer, jwks):
    problems = verify_package(io.BytesIO(zipped(members(signer))), jwks).problems  # type: ignore[arg-type]
    assert problems == ['the JWKS is not a JSON object with a "keys" list (RFC 7517 section 5)']
