"""OAuth clients: the application systems of a department that fetch tokens at ``/oauth/token``.

A client belongs to one department (its USCC becomes the tokens' ``sub``) and holds the
roles its tokens may carry. Its secret is shown once, at creation, and stored only as a
salted scrypt hash (``scrypt$n$r$p$salt$hash``, base64url) compared in constant time.
Disabling a client stops new tokens at once; tokens it already holds stay valid until
they expire (at most ``GOVSHARE_TOKEN_TTL``), as they are checked by signature alone.

The table ``oauth_clients`` is declared on the platform database's ``Base``, so
``PlatformDB.create_schema`` creates it.
"""

from __future__ import annotations

import base64
import builtins
import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from errors import BadRequest
from gateway.platform import Base, PlatformDB, UTCDateTime
from policies.codes import validate_uscc
from policies.decision import ROLES

CLIENT_CREDENTIALS = "client_credentials"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # ~16 MiB, tens of milliseconds per check
_MAX_NAME = 200


class ClientRow(Base):
    __tablename__ = "oauth_clients"

    client_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    department: Mapped[str] = mapped_column(sa.String(18), index=True)
    name: Mapped[str] = mapped_column(sa.String(_MAX_NAME))
    roles: Mapped[list[str]] = mapped_column(sa.JSON)
    grant_types: Mapped[list[str]] = mapped_column(sa.JSON)
    secret_hash: Mapped[str] = mapped_column(sa.String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def to_client(self) -> Client:
        return Client(
            client_id=self.client_id,
            department=self.department,
            name=self.name,
            roles=tuple(self.roles),
            grant_types=tuple(self.grant_types),
            secret_hash=self.secret_hash,
            created_at=_aware(self.created_at),
            disabled_at=_aware(self.disabled_at) if self.disabled_at else None,
        )


@dataclass(frozen=True)
class Client:
    client_id: str
    department: str
    name: str
    roles: tuple[str, ...]
    grant_types: tuple[str, ...]
    secret_hash: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None

    def check_secret(self, secret: str) -> bool:
        return check_secret(self.secret_hash, secret)

    def public(self) -> dict[str, object]:
        """What ``govshare client list`` shows: never the secret or its hash."""
        return {
            "client_id": self.client_id,
            "department": self.department,
            "name": self.name,
            "roles": list(self.roles),
            "created_at": self.created_at.isoformat(),
            "disabled": self.disabled,
        }


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    n, r, p = _SCRYPT["n"], _SCRYPT["r"], _SCRYPT["p"]
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def check_secret(stored: str, secret: str) -> bool:
    """Constant-time comparison against the stored scrypt hash (its own parameters and salt)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        expected = _unb64(digest)
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    return hash_secret(secrets.token_urlsafe(16))


def spend_check_time(secret: str) -> None:
    """As long as a real check: an unknown client_id answers no faster than a wrong secret."""
    check_secret(_dummy_hash(), secret)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    chosen = tuple(sorted({role.strip() for role in roles if role.strip()}))
    unknown = [role for role in chosen if role not in ROLES]
    if unknown or not chosen:
        raise BadRequest(
            f"roles must be one or more of {', '.join(ROLES)}; got {', '.join(unknown) or 'none'}"
        )
    return chosen


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > _MAX_NAME:
        raise BadRequest(f"a client needs a name of 1 to {_MAX_NAME} characters (the application system)")
    return name


class ClientStore:
    """Create, read, list and disable clients in the platform database."""

    def __init__(self, platform: PlatformDB) -> None:
        self.platform = platform

    async def create(
        self,
        department: str,
        roles: Iterable[str],
        name: str,
        grant_types: Sequence[str] = (CLIENT_CREDENTIALS,),
    ) -> tuple[Client, str]:
        """The new client and its secret, which is not stored and cannot be shown again."""
        secret = secrets.token_urlsafe(32)
        row = ClientRow(
            client_id=f"client-{secrets.token_hex(8)}",
            department=validate_uscc(department),
            name=check_name(name),
            roles=list(check_roles(roles)),
            grant_types=list(grant_types),
            secret_hash=hash_secret(secret),
            created_at=dt.datetime.now(dt.UTC),
        )
        async with self.platform.session.begin() as session:
            session.add(row)
        return row.to_client(), secret

    async def get(self, client_id: str) -> Client | None:
        async with self.platform.session() as session:
            row = await session.get(ClientRow, client_id)
        return row.to_client() if row is not None else None

    async def list(self) -> builtins.list[Client]:
        async with self.platform.session() as session:
            rows = await session.scalars(sa.select(ClientRow).order_by(ClientRow.created_at))
            return [row.to_client() for row in rows.all()]

    async def disable(self, client_id: str) -> Client:
        async with self.platform.session.begin() as session:
            row = await session.get(ClientRow, client_id)
            if row is None:
                raise BadRequest(f"no client {client_id!r}; list them with `govshare client list`")
            row.disabled_at = row.disabled_at or dt.datetime.now(dt.UTC)
        return row.to_client()
