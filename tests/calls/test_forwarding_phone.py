"""Your own phone (the forwarding phone) must be yours: not a business line, not a contact's number, not a
colleague's. Set as someone else's, that person's calls to a team line would ask for a voice PIN and reach nobody,
and click-to-call would ring them first."""

from sqlalchemy import select

from db.models import User
from db.session import transaction
from tests.calls.conftest import FORWARDING
from tools.workspaces import add_member, create_user

COLLEAGUES = "+14155550188"


def _refused(api, phone: str) -> str:
    answer = api.put("/api/v1/me/", json={"forwarding_phone": phone})
    assert answer.status_code == 400, answer.text
    assert answer.json()["problems"][0]["code"] == "not_your_phone"
    assert api.get("/api/v1/me/").json()["forwarding_phone"] == FORWARDING  # unchanged
    return answer.json()["field-errors"]["forwarding_phone"]


def test_a_contacts_number_is_not_your_own_phone(api):
    assert _refused(api, "(415) 555-0132") == ("(415) 555-0132 is Sarah Lee's number in this workspace; give the "
                                               "phone you carry.")


def test_a_colleagues_own_phone_is_not_yours(api, factory, demo):
    with transaction(factory) as session:
        bo = create_user(session, "bo@bayview.test", "Bo", "Kim")
        bo.forwarding_phone = COLLEAGUES
        session.flush()
        add_member(session, demo.organization_id, bo)
    assert _refused(api, COLLEAGUES) == ("(415) 555-0188 is a colleague's own phone in this workspace; give the phone "
                                         "you carry.")
    assert api.put("/api/v1/me/", json={"forwarding_phone": "+14155550177"}).status_code == 200  # one of your own
    with factory() as session:
        assert session.scalar(select(User.forwarding_phone).where(User.id == demo.user_id)) == "+14155550177"
