"""Mutations of the profile's access rules (issue 10 section 2): onboarding a department
(Sanya art. 12) and the operator's consent to a provider's refusal (Sanya art. 12).

The rules live in ``policies`` (``policies.profile_rules``, ``policies.workflow``); storage in
the gateway's services, reached through ``Federation.onboarding`` and ``Federation.workflow``.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from errors import ConfigurationError
from policies.workflow import require_role
from resolvers.arguments import department_argument
from resolvers.context import OnboardingService, RequestContext
from resolvers.workflow import Application, _actor, _service, _view

ONBOARD_HELP = (
    "Record a consumer department's written access application and its commitment to the "
    "sharing and secrecy rules (operator role; Sanya art. 12: required before a department's "
    "first use where the profile says so). Idempotent: the first record is kept."
)
CONFIRM_HELP = (
    "Consent to a provider's pending refusal (operator role): consent=true makes it final "
    "(REFUSED); consent=false sends the application back to the provider with your reasons "
    "(Sanya art. 12: a refusal needs the informatization department's consent)."
)


@strawberry.type(description="A department's onboarding record (Sanya art. 12).")
class DepartmentOnboarding:
    department: str
    commitment: str
    onboarded_at: dt.datetime
    onboarded_by: str


def _onboarding(info: Info) -> OnboardingService:
    context: RequestContext = info.context
    if context.federation.onboarding is None:
        raise ConfigurationError("the onboarding service is not configured")
    return context.federation.onboarding


@strawberry.type
class ProfileMutation:
    @strawberry.mutation(description=ONBOARD_HELP)
    async def onboard_department(self, info: Info, code: str, commitment: str) -> DepartmentOnboarding:
        context: RequestContext = info.context
        require_role(context.consumer, "operator", "onboarding a department")
        record = await _onboarding(info).onboard(
            str(department_argument(code)), commitment, context.consumer.department
        )
        return DepartmentOnboarding(
            department=record.department,
            commitment=record.commitment,
            onboarded_at=record.onboarded_at,
            onboarded_by=record.onboarded_by,
        )

    @strawberry.mutation(description=CONFIRM_HELP)
    async def confirm_refusal(
        self, info: Info, id: strawberry.ID, consent: bool, reasons: list[str] | None = None
    ) -> Application:
        row = await _service(info).confirm_refusal(_actor(info), str(id), consent, reasons or [])
        return _view(info, row)
