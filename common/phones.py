"""Phone numbers: E.164 when they parse as a possible number, otherwise kept as sent.

A phone number never makes a request or an import row fail.
"""

import phonenumbers


def normalize_phone(raw: str | None, region: str | None = None) -> str:
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
