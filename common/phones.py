"""Phone numbers: E.164 when they parse as a possible number, otherwise kept as sent.

A phone number never makes a request or an import row fail.

`phonenumbers.parse` costs tens of microseconds, most of it generic Unicode handling; a
million-row import spends a quarter of its time there. `_fast_e164` answers the common
shapes (ASCII digits with spaces, dashes, dots or parentheses, optionally after a "+")
straight from the library's metadata, and returns None whenever the number touches a
rule it does not replicate (international or national prefixes, leading zeros, a
country code at the start of a national number), so the full parser decides those.
tests/test_phones.py checks that both paths agree on numbers of every region.
"""

import functools
import re

import phonenumbers
from phonenumbers import phonenumberutil
from phonenumbers.phonemetadata import PhoneMetadata

_SIMPLE = re.compile(r"\+?\(?\d[\d \-.()]*\d\)?")
_NON_DIGITS = re.compile(r"\D")
_POSSIBLE = (
    phonenumberutil.ValidationResult.IS_POSSIBLE,
    phonenumberutil.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
)


def normalize_phone(raw: str | None, region: str | None = None) -> str:
    text = (raw or "").strip()
    if not text:
        return ""
    region = (region or "").upper() or None
    fast = _fast_e164(text, region)
    if fast is not None:
        return fast or text
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    # E.164 has no room for an extension: keep such a number as sent rather than lose it.
    if number.extension or not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _fast_e164(text: str, region: str | None) -> str | None:
    """E.164 ("+..."), "" for "not a possible number", or None for "ask the full parser"."""
    if not text.isascii() or not _SIMPLE.fullmatch(text) or text.count("+") > 1:
        return None
    digits = _NON_DIGITS.sub("", text)
    if not 7 <= len(digits) <= 15:
        return None
    if text.startswith("+"):
        country_code, national = _split_country_code(digits)
        if country_code is None:
            return None
        # The parser reads the rest with the rules of the number's own country.
        own = phonenumberutil.region_code_for_country_code(country_code)
        parsing = _region_metadata(region) if region == own else _main_metadata(country_code)
    else:
        parsing = _region_metadata(region)
        if parsing is None or _starts_with_prefix(digits, parsing):
            return None
        country_code, national = parsing.country_code, digits
    main = _main_metadata(country_code)
    if parsing is None or main is None or national.startswith("0"):
        return None
    national_prefix = _pattern(parsing.national_prefix_for_parsing)
    if national_prefix and national_prefix.match(national):
        return None
    possible = phonenumberutil._test_number_length(national, main) in _POSSIBLE
    return f"+{country_code}{national}" if possible else ""


def _split_country_code(digits: str):
    if digits[0] == "0":
        return None, ""
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in phonenumberutil.COUNTRY_CODE_TO_REGION_CODE:
            return code, digits[length:]
    return None, ""


def _starts_with_prefix(digits: str, metadata) -> bool:
    """An international dialling prefix (011, 00...) or the region's own country code."""
    idd = _pattern(metadata.international_prefix)
    return bool(idd and idd.match(digits)) or digits.startswith(str(metadata.country_code))


@functools.cache
def _pattern(regex: str | None):
    return re.compile(regex) if regex else None


@functools.cache
def _region_metadata(region: str | None):
    return PhoneMetadata.metadata_for_region(region, None) if region else None


@functools.cache
def _main_metadata(country_code: int):
    region = phonenumberutil.region_code_for_country_code(country_code)
    return PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
