"""Whatever seeds the demo workspace again (`cody serve --demo`, a test, a benchmark) revokes the demo's earlier keys:
only the key it was just given works."""

import httpx
import pytest

from db.session import transaction
from tests.live import live_cody
from tools.demo import seed_demo

ME = "/api/v1/me/"


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


def test_seeding_the_demo_again_revokes_its_earlier_keys(db_url, factory):
    with transaction(factory) as session:
        first = seed_demo(session)
    with transaction(factory) as session:
        second = seed_demo(session)
    with transaction(factory) as session:
        third = seed_demo(session)
    assert (first.created, first.revoked) == (True, 0)
    assert (second.created, second.revoked, second.organization_id) == (False, 1, first.organization_id)
    assert (third.created, third.revoked) == (False, 1)  # the first was revoked already
    with live_cody(db_url, factory) as cody:
        for demo, status in ((first, 401), (second, 401), (third, 200)):
            assert httpx.get(cody.base_url + ME, auth=(demo.api_key, ""), timeout=30).status_code == status
