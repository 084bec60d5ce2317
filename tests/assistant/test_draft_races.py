"""A cancel or an edit that read a draft just before a confirm committed changes nothing, and says so.

Each test holds a session that has read the draft while it was still pending (its copy of the row still says so, as
cancel's or edit's own read would have just before the other request committed), lets the confirm commit through the
chat API, then carries on with that session. On SQLite and PostgreSQL, through a live Cody on the demo workspace.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session, sessionmaker

from assistant import drafts
from tools.context import Ctx
from tools.problems import Conflict

TTL_MINUTES = 30


@pytest.fixture
def db_url(any_db_url) -> str:
    return any_db_url


@pytest.fixture
def ctx(demo) -> Ctx:
    return Ctx(demo.organization_id, demo.user_id, "chat")


def draft_to_sarah(chat) -> dict:
    answer = chat.post("/api/chat/messages", json={"text": "text Sarah the keys are in the lockbox"})
    assert answer.status_code == 200, answer.text
    return answer.json()["drafts"][0]


@contextmanager
def read_pending(factory: sessionmaker[Session], ctx: Ctx, draft_id: str) -> Iterator[Session]:
    """A session that read the draft while it was pending and keeps that copy: cancel's and edit's own read of the
    draft in this session gets the copy, as if their SELECT had run just before the confirm committed. Its
    transaction is over, so the confirm it races is not kept waiting (SQLite lets one writer in at a time)."""
    with factory() as late:
        copy = drafts.get_draft(late, ctx, draft_id)
        assert copy.state == "pending"
        late.commit()
        yield late


def confirm(chat, draft_id: str) -> dict:
    confirmed = chat.post(f"/api/chat/drafts/{draft_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return confirmed.json()


def sms(chat, activity_id: str) -> dict:
    return chat.get(f"/api/v1/activity/sms/{activity_id}/").json()


def test_a_cancel_that_read_the_draft_before_the_confirm_leaves_it_confirmed(chat, factory, ctx):
    draft = draft_to_sarah(chat)
    with read_pending(factory, ctx, draft["id"]) as late:
        confirmed = confirm(chat, draft["id"])
        with pytest.raises(Conflict) as lost:
            drafts.cancel(late, ctx, draft["id"])
    assert lost.value.message == "This draft was already confirmed; nothing was canceled."
    seen = chat.get(f"/api/chat/drafts/{draft['id']}").json()
    assert (seen["state"], seen["activity_id"]) == ("executed", confirmed["activity"]["id"])
    sent = sms(chat, confirmed["activity"]["id"])
    assert (sent["text"], sent["status"] in ("sent", "delivered")) == ("the keys are in the lockbox", True)


def test_an_edit_that_read_the_draft_before_the_confirm_changes_nothing(chat, factory, cody, ctx):
    draft = draft_to_sarah(chat)
    with read_pending(factory, ctx, draft["id"]) as late:
        confirmed = confirm(chat, draft["id"])
        with pytest.raises(Conflict) as lost:
            drafts.edit(late, ctx, cody.runtime.messaging, draft["id"], {"text": "The keys are under the mat"},
                        TTL_MINUTES)
    assert lost.value.message == "This draft was already confirmed; it can't be changed now."
    seen = chat.get(f"/api/chat/drafts/{draft['id']}").json()
    assert (seen["state"], seen["args"], seen["preview"]) == ("executed", draft["args"], draft["preview"])
    assert sms(chat, confirmed["activity"]["id"])["text"] == "the keys are in the lockbox"


def test_an_edit_that_read_the_draft_before_another_edit_is_refused(chat, factory, cody, ctx):
    draft = draft_to_sarah(chat)
    with read_pending(factory, ctx, draft["id"]) as late:
        edited = chat.patch(f"/api/chat/drafts/{draft['id']}", json={"args": {"text": "Keys: under the mat"}})
        assert edited.status_code == 200, edited.text
        with pytest.raises(Conflict) as lost:
            drafts.edit(late, ctx, cody.runtime.messaging, draft["id"], {"text": "Keys: with the neighbour"},
                        TTL_MINUTES)
    assert lost.value.message == "This draft was changed meanwhile; look at it again before changing it."
    sent = confirm(chat, draft["id"])["activity"]
    assert sent["text"] == "Keys: under the mat"


def test_a_confirm_that_loses_to_a_cancel_says_it_was_canceled(chat, factory, cody, ctx):
    draft = draft_to_sarah(chat)
    with read_pending(factory, ctx, draft["id"]) as late:
        assert chat.post(f"/api/chat/drafts/{draft['id']}/cancel").json()["state"] == "canceled"
        with pytest.raises(Conflict) as lost:
            drafts.confirm(late, ctx, cody.runtime.messaging, draft["id"])
    assert lost.value.message == "This draft was canceled; nothing was sent."
    assert chat.get(f"/api/chat/drafts/{draft['id']}").json()["state"] == "canceled"
    assert chat.get("/api/v1/activity/sms/").json()["data"] == []
