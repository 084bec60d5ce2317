"""Phone numbers through phonenumbers: parse, normalise to E.164, format, find the region."""

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from tools.problems import Invalid

phonenumbers.enable_pattern_cache()


@dataclass(frozen=True)
class Phone:
    e164: str
    region: str | None
    number: phonenumbers.PhoneNumber

    @property
    def formatted(self) -> str:
        return format_phone(self.e164)


def parse_phone(raw: str, default_region: str | None = "US") -> phonenumbers.PhoneNumber:
    """Parse or raise NumberParseException; a leading + wins over the default region."""
    return phonenumbers.parse(raw.strip(), default_region)


def normalise(raw: str, default_region: str | None = "US", field: str = "phone") -> Phone:
    """Return the phone in E.164 or raise Invalid naming the field."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid.one("invalid_phone", field, "A phone number is required.")
    try:
        number = parse_phone(raw, default_region)
    except NumberParseException:
        raise Invalid.one("invalid_phone", field, f"{raw!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid.one("invalid_phone", field, f"{raw!r} is not a valid phone number.")
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    return Phone(e164=e164, region=phonenumbers.region_code_for_number(number), number=number)


def format_phone(e164: str | None) -> str | None:
    """Human format: national for +1, international otherwise (as Close shows them)."""
    if not e164:
        return None
    try:
        number = phonenumbers.parse(e164, None)
    except NumberParseException:
        return e164
    if number.country_code == 1:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)


def region_of(e164: str | None) -> str | None:
    if not e164:
        return None
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return None


_PHONE_SHAPED = re.compile(r"[\d\s+().\-/]+")
MIN_SEARCH_DIGITS = 3  # fewer would match nearly every number


def search_digits(text: str) -> str | None:
    """The digits to look for in stored E.164 numbers when a search is a phone number or part of one ("+1 (415)
    555-1003", "4155551003", "555-1003"); None when it is not (letters, or under MIN_SEARCH_DIGITS digits). A leading
    international prefix (00) or, before a whole national number, trunk 0 is dropped: "020 7946 0018" finds
    +442079460018."""
    if not _PHONE_SHAPED.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) >= 8:
        digits = digits[1:]
    return digits if len(digits) >= MIN_SEARCH_DIGITS else None
