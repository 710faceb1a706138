"""Bearer headers for the people the API tests act as (over the seeded network)."""

from __future__ import annotations

import pytest

from tests.api.helpers import CENTRE, PHARMACY


@pytest.fixture
def admin(seeded, token) -> dict:
    return token("admin")


@pytest.fixture
def staff(seeded, token) -> dict:
    """A pharmacist of the Hovedstaden hospital pharmacy that supplies the Bella Center."""
    return token("pharmacist", site=PHARMACY)


@pytest.fixture
def manager(seeded, token) -> dict:
    """The manager of the Bella Center vaccination centre."""
    return token("centre_manager", site=CENTRE)


@pytest.fixture
def auditor(seeded, token) -> dict:
    return token("auditor")
