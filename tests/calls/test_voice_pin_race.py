"""The voice-PIN lockout holds against calls made together: a caller ID is easy to spoof, so twenty calls from the
user's phone at once, each keying a wrong PIN, get exactly as many PINs compared as the lockout allows."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from db.models import VoiceCommandSession
from tests.calls.test_voice_pin_commands import Call, sid
from tools.voice.commands import LOCKED, LOCKOUT_FAILURES, WRONG_PIN

CALLS = 20


@pytest.fixture
def db_url(any_db_url: str) -> str:
    return any_db_url


def test_wrong_pins_keyed_together_are_compared_no_more_than_the_lockout_allows(cody, api, factory):
    assert api.put("/api/v1/me/", json={"voice_pin": "4821"}).status_code == 200
    calls = [Call(cody, sid(n)) for n in range(CALLS)]
    for call in calls:
        call.dial()

    def guess(n: int) -> str:
        calls[n].press(f"{1000 + n:04d}")
        return calls[n].said()

    with ThreadPoolExecutor(CALLS) as pool:
        heard = list(pool.map(guess, range(CALLS)))

    assert sum(WRONG_PIN in words for words in heard) == LOCKOUT_FAILURES
    assert sum(LOCKED in words for words in heard) == CALLS - LOCKOUT_FAILURES
    with factory() as session:
        assert session.scalar(select(func.sum(VoiceCommandSession.failed_pins))) == LOCKOUT_FAILURES
