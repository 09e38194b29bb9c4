"""Shared fixtures: the bundled rule set, loaded once, and a decider per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from ampc.decide.decider import Decider
from ampc.rules.loader import load_ruleset

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def ruleset():
    return load_ruleset(ROOT)


@pytest.fixture()
def decider(ruleset):
    with Decider(ruleset) as d:
        yield d
