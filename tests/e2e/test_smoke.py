"""The demo answers a cross-department query over HTTP."""

from __future__ import annotations

import pytest

from gateway.demo import SAMPLE_ORGANIZATION_QUERY

pytestmark = pytest.mark.e2e


def test_cross_department_query(demo):
    code = demo.info["samples"]["organizations"][0]
    response = demo.post(SAMPLE_ORGANIZATION_QUERY, {"code": code})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    organization = response.json()["data"]["organization"]
    assert organization["code"] == code
    assert organization["enterpriseRegistration"]["name"].startswith("武汉")
    assert organization["taxCredit"]["creditRating"] in set("ABMCD")
    assert isinstance(organization["creditRecord"]["blacklisted"], bool)
