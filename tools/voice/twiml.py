"""TwiML for every call Cody answers or places, built with the SDK's VoiceResponse (never by string pasting)."""

from twilio.twiml.voice_response import VoiceResponse

RECORD_DUAL = "record-from-answer-dual"  # both parties, one channel each
FORWARD_TIMEOUT_SECONDS = 20  # how long the owner's phone rings before the caller goes to voicemail
DIAL_TIMEOUT_SECONDS = 30
VOICEMAIL_MAX_SECONDS = 120
PIN_TIMEOUT_SECONDS = 10  # how long Twilio waits for the next key of a PIN
ACCEPT_TIMEOUT_SECONDS = 8  # how long the user's phone has to press a key before the contact is not called


def connect_call(number: str, caller_id: str, action: str, record: bool, recording_callback: str | None,
                 announce: str | None = None) -> str:
    """The user answered their own phone: dial the contact with the business number as caller ID.

    answerOnBridge keeps the user hearing ringing until the contact picks up, so the contact never hears
    silence and the user hears a real busy or no-answer.
    """
    response = VoiceResponse()
    if announce:
        response.say(announce)
    dial = response.dial(caller_id=caller_id, answer_on_bridge=True, action=action, method="POST",
                         timeout=DIAL_TIMEOUT_SECONDS, **_recording(record, recording_callback))
    dial.number(number)
    return str(response)


def ask_to_connect(prompt: str, action: str) -> str:
    """Before the contact is rung: a key pressed on the user's phone says a person answered it, not its voicemail.
    The action is asked with the key, or with no Digits when none came."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, action=action, method="POST",
                             timeout=ACCEPT_TIMEOUT_SECONDS, action_on_empty_result=True)
    gather.say(prompt)
    return str(response)


def forward_call(number: str, action: str, record: bool, recording_callback: str | None) -> str:
    """An incoming call rings the owner's own phone; the caller's number shows as caller ID."""
    response = VoiceResponse()
    dial = response.dial(action=action, method="POST", timeout=FORWARD_TIMEOUT_SECONDS,
                         **_recording(record, recording_callback))
    dial.number(number)
    return str(response)


def voicemail(greeting: str, action: str, recording_callback: str) -> str:
    """Take a message: a greeting, the beep, up to two minutes; a caller who says nothing just hangs up."""
    response = VoiceResponse()
    _voicemail(response, greeting, action, recording_callback)
    return str(response)


def agent_turn(say: str, action: str, voicemail_after: tuple[str, str, str] | None = None) -> str:
    """The voice agent speaks and listens (<Gather input="speech">). Silence ends the call politely, or, with
    `voicemail_after` = (greeting, action, recording callback), goes on to take a message."""
    response = VoiceResponse()
    gather = response.gather(input="speech", action=action, method="POST", speech_timeout="auto", timeout=5,
                             language="en-US")
    gather.say(say)
    if voicemail_after:
        _voicemail(response, *voicemail_after)
    else:
        response.say("Thanks for calling. Goodbye.")
        response.hangup()
    return str(response)


def ask_for_pin(say: str, action: str) -> str:
    """Ask for digits ending with # (<Gather input="dtmf">); no digits end the call."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf", action=action, method="POST", finish_on_key="#", timeout=PIN_TIMEOUT_SECONDS)
    gather.say(say)
    response.say("Goodbye.")
    response.hangup()
    return str(response)


def ask_for_command(say: str, action: str) -> str:
    """Speak and listen (<Gather input="speech">); silence is posted too (an empty SpeechResult) so Cody decides."""
    response = VoiceResponse()
    gather = response.gather(input="speech", action=action, method="POST", speech_timeout="auto", timeout=5,
                             language="en-US", action_on_empty_result=True)
    gather.say(say)
    response.say("Goodbye.")
    response.hangup()
    return str(response)


def _voicemail(response: VoiceResponse, greeting: str, action: str, recording_callback: str) -> None:
    response.say(greeting)
    response.record(action=action, method="POST", max_length=VOICEMAIL_MAX_SECONDS, play_beep=True,
                    timeout=5, trim="trim-silence", recording_status_callback=recording_callback,
                    recording_status_callback_event="completed", recording_status_callback_method="POST")
    response.say("I didn't get a message. Goodbye.")
    response.hangup()


def say_then(text: str, redirect: str | None = None) -> str:
    """Say something, then go on at `redirect` (POST) or hang up."""
    response = VoiceResponse()
    response.say(text)
    if redirect:
        response.redirect(redirect, method="POST")
    else:
        response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def empty() -> str:
    return str(VoiceResponse())


def _recording(record: bool, callback: str | None) -> dict:
    if not record:
        return {}
    options = {"record": RECORD_DUAL}
    if callback:
        options |= {"recording_status_callback": callback, "recording_status_callback_event": "completed",
                    "recording_status_callback_method": "POST"}
    return options
