"""Onboarding of consumer departments (Sanya art. 12), stored in the platform database.

    第十二条 ……各政务部门首次接入共享交换平台使用信息资源前,需向市信息化主管部门书面申请
    接入,按照统一格式报送政务信息共享需求,并承诺遵守信息资源共享规定和相关保密规定。

Where the profile sets ``access.onboarding`` (``policies.profile_rules``), the operator (the
informatization department) records each department's written access application and its
commitment once: ``onboardDepartment(code, commitment)`` or ``govshare onboard``. Until then
the department reads nothing (ONBOARDING_REQUIRED, ``policies.decision``). Recording is
idempotent: onboarding an onboarded department again keeps the first record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from errors import BadRequest
from gateway.platform import Base, PlatformDB, UTCDateTime
from policies.chinatime import utc_now
from policies.codes import validate_uscc

COMMITMENT_MAX = 2000  # characters of the commitment text kept


class OnboardingRow(Base):
    __tablename__ = "onboarding"

    department: Mapped[str] = mapped_column(sa.String(18), primary_key=True)  # USCC
    commitment: Mapped[str] = mapped_column(sa.Text)  # the written commitment, as recorded
    onboarded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    onboarded_by: Mapped[str] = mapped_column(sa.String(64))  # the operator's department


@dataclass(frozen=True)
class Onboarding:
    """A department's onboarding record."""

    department: str
    commitment: str
    onboarded_at: dt.datetime
    onboarded_by: str


class OnboardingStore:
    """Onboarding records over a ``PlatformDB`` (its tables, its engine)."""

    def __init__(self, platform: PlatformDB) -> None:
        self.platform = platform

    async def onboarded(self, department: str) -> bool:
        """Whether ``department`` (a USCC) has been onboarded."""
        async with self.platform.session() as session:
            return await session.get(OnboardingRow, department) is not None

    async def onboard(self, department: str, commitment: str, operator: str) -> Onboarding:
        """Record ``department``'s access application and commitment; the existing record if
        there is one. BadRequest for an invalid USCC or an empty or oversized commitment."""
        code = validate_uscc(department)
        text = commitment.strip()
        if not text or len(text) > COMMITMENT_MAX:
            raise BadRequest(
                f"commitment must be 1-{COMMITMENT_MAX} characters: the department's written "
                "commitment to the sharing and secrecy rules (Sanya art. 12)",
                argument="commitment",
            )
        async with self.platform.session.begin() as session:
            row = await session.get(OnboardingRow, code)
            if row is None:
                row = OnboardingRow(
                    department=code, commitment=text, onboarded_at=utc_now(), onboarded_by=operator
                )
                session.add(row)
        return Onboarding(row.department, row.commitment, row.onboarded_at, row.onboarded_by)
