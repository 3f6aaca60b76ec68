"""resolvers.vocabulary.own_citations over tests/resolvers/data/own_citations.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policies.profile import load_profile
from resolvers.vocabulary import own_citations, own_terms

CASES = yaml.safe_load((Path(__file__).parent / "data/own_citations.yaml").read_text("utf-8"))


@pytest.mark.parametrize(
    ("text", "profile", "want"),
    [(case["text"], name, want) for case in CASES for name, want in case.items() if name != "text"],
)
def test_a_description_keeps_only_the_profiles_own_citations(text: str, profile: str, want: str) -> None:
    assert own_citations(text, profile) == want


TERMS = yaml.safe_load((Path(__file__).parent / "data/own_terms.yaml").read_text("utf-8"))


@pytest.mark.parametrize(
    ("text", "profile", "want"),
    [(case["text"], name, want) for case in TERMS for name, want in case.items() if name != "text"],
)
def test_another_regulations_class_term_reads_as_the_profiles_own(text: str, profile: str, want: str) -> None:
    assert own_terms(text, load_profile(profile)) == want
