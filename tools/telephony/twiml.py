"""TwiML answers, built with the SDK's builders."""

from twilio.twiml.messaging_response import MessagingResponse


def empty_messaging_response() -> str:
    return str(MessagingResponse())
