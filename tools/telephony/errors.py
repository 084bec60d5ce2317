"""Twilio error codes in plain English, mapped to Cody problem codes, and which HTTP statuses are worth a retry.

Codes 21xxx come back synchronously from the Messages/Calls API (HTTP 400); codes 30xxx arrive later as the
`ErrorCode` of a status callback (30034 also shows up at send time in the sandbox, which behaves like the carrier).
"""

_DESCRIPTIONS: dict[int, str] = {
    # Account and API errors.
    20003: "Twilio rejected the account SID or auth token.",
    20404: "Twilio has no such resource.",
    20429: "Twilio is throttling requests; try again shortly.",
    20500: "Twilio had an internal error; try again shortly.",
    20503: "Twilio is temporarily unavailable; try again shortly.",
    # Send-time (REST API) errors.
    21211: "The recipient's number is not a valid phone number.",
    21212: "The sending number is not a valid phone number.",
    21408: "Texting to the recipient's country or region is not enabled on this account.",
    21606: "The sending number cannot send texts: it is not SMS-capable or not owned by this account.",
    21610: "The recipient replied STOP and has opted out of texts from this number.",
    21611: "The sending number's queue is full; too many messages are waiting to go out.",
    21612: "Texts cannot be sent between these two numbers (the pair is unreachable).",
    21614: "The recipient's number is not a mobile number and cannot receive texts.",
    21617: "The message is too long: the body may be at most 1,600 characters.",
    # Call-time errors (Twilio's test numbers use these).
    21214: "The number being called cannot be reached.",
    21215: "Calling the recipient's country or region is not enabled on this account.",
    21216: "This account is not allowed to call the recipient's number.",
    21217: "The number being called is not a valid phone number.",
    # Number purchase errors (Twilio's test numbers use these).
    21421: "The phone number to buy is not valid.",
    21422: "The phone number to buy is not available.",
    21452: "No phone numbers are available in that area code.",
    # Delivery errors (status callback ErrorCode).
    30003: "The recipient's phone is unreachable (switched off or out of coverage).",
    30004: "The message was blocked: the recipient blocked this number or their carrier refused it.",
    30005: "The recipient's number is unknown or no longer in service.",
    30006: "The recipient's number is a landline or its carrier cannot receive texts.",
    30007: "Message blocked by carrier: the number's 10DLC registration is not finished or the number is not in the messaging service.",
    30008: "The carrier reported an unknown error delivering the message.",
    30032: "The toll-free sending number is not verified, so carriers block its texts.",
    30034: "Message blocked by carrier: the number's 10DLC registration is not finished or the number is not in the messaging service.",
}

_PROBLEM_CODES: dict[int, str] = {
    21211: "invalid_phone",
    21610: "opted_out",
    21614: "not_sms_capable",
    21408: "unsupported_country",
    21612: "unroutable",
    21606: "not_sms_capable_sender",
    21212: "not_sms_capable_sender",
    30007: "us_10dlc_unregistered",
    30034: "us_10dlc_unregistered",
}

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def describe_error(code: int | None) -> str:
    """Readable text for a Twilio error code; unknown codes read "Carrier error <code>"."""
    if code is None:
        return "Carrier error"
    try:
        code = int(code)
    except (TypeError, ValueError):
        return f"Carrier error {code}"
    return _DESCRIPTIONS.get(code, f"Carrier error {code}")


def problem_code(code: int | None) -> str:
    """Cody's problem code for a Twilio error code; anything unmapped is "provider_error"."""
    try:
        return _PROBLEM_CODES.get(int(code), "provider_error")  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "provider_error"


def is_retryable_status(http_status: int | None) -> bool:
    """True for throttling and transient server statuses (429, 500, 502, 503, 504); other 4xx are final."""
    return http_status in RETRYABLE_STATUSES
