"""TwiML answers, built with the SDK's builders."""

from twilio.twiml.messaging_response import MessagingResponse

_EMPTY_MESSAGING_RESPONSE = str(MessagingResponse())  # every incoming text and status callback answers this


def empty_messaging_response() -> str:
    return _EMPTY_MESSAGING_RESPONSE
