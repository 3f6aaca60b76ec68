"""Settings, from flags first, then ``GOVSHARE_*`` environment variables, then defaults.

| variable | default | meaning |
|---|---|---|
| GOVSHARE_DATA | ~/.local/share/govshare | data folder: keys, platform.db, demo databases |
| GOVSHARE_CATALOG | DATA/catalog.yaml | catalog file or folder |
| GOVSHARE_DATABASE_URL | sqlite+aiosqlite:///DATA/platform.db | platform database (SQLAlchemy async URL) |
| GOVSHARE_HOST | 127.0.0.1 | address to listen on |
| GOVSHARE_PORT | 8000 | port to listen on |
| GOVSHARE_TOKEN_TTL | 3600 | lifetime of issued tokens, seconds |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from errors import ConfigurationError
from gateway.platform import default_url


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    catalog: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = 8000
    token_ttl: int = 3600

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **flags: object) -> Settings:
        env = os.environ if environ is None else environ

        def pick(name: str, default: str) -> str:
            flag = flags.get(name)
            return str(flag) if flag is not None else env.get(f"GOVSHARE_{name.upper()}", default)

        data_dir = Path(pick("data", str(default_data_dir(env)))).expanduser().resolve()
        return cls(
            data_dir=data_dir,
            catalog=Path(pick("catalog", str(data_dir / "catalog.yaml"))),
            database_url=pick("database_url", default_url(str(data_dir))),
            host=pick("host", "127.0.0.1"),
            port=_number("GOVSHARE_PORT", pick("port", "8000")),
            token_ttl=_number("GOVSHARE_TOKEN_TTL", pick("token_ttl", "3600")),
        )


def default_data_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "govshare"


def _number(name: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ConfigurationError(f"{name} must not be negative, got {number}")
    return number
