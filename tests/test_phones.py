"""The fast path of phone normalisation agrees with the full parser, number for number."""

import random

import phonenumbers
import pytest

from common import phones

REGIONS = ["US", "CA", "GB", "DE", "FR", "IT", "ES", "NL", "IN", "BR", "AU", "JP", "MX", "AR"]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


def _slow(text: str, region: str) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return text
    if number.extension or not phonenumbers.is_possible_number(number):
        return text
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _samples():
    rng = random.Random(20261127)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                for fmt in FORMATS:
                    yield phonenumbers.format_number(example, fmt)
    separators = ["", " ", "-", ".", " - "]
    for _ in range(4000):
        length = rng.randint(5, 16)
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        sep = rng.choice(separators)
        chunks = [digits[i : i + rng.randint(2, 4)] for i in range(0, length, 3)]
        text = sep.join(chunks)
        roll = rng.random()
        if roll < 0.4:
            text = "+" + text
        elif roll < 0.5:
            text = f"({text[:3]}) {text[3:]}"
        yield text


SAMPLES = sorted(set(_samples()))


@pytest.mark.parametrize("region", REGIONS)
def test_fast_path_matches_the_full_parser(region):
    mismatches = [
        (text, phones.normalize_phone(text, region), _slow(text, region))
        for text in SAMPLES
        if phones.normalize_phone(text, region) != _slow(text, region)
    ]
    assert not mismatches, mismatches[:10]


def test_fast_path_answers_the_common_shapes():
    assert phones._fast_e164("(415) 555-2671", "US") == "+14155552671"
    assert phones._fast_e164("+44 20 7946 0958", "US") == "+442079460958"
    assert phones._fast_e164("020 7946 0958", "GB") is None  # national prefix: full parser


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+49 30 901820", "US", "+4930901820"),
        ("call me maybe", "US", "call me maybe"),
        ("12", "US", "12"),
        ("", "US", ""),
        ("  +1 415 555 2671 ", "FR", "+14155552671"),
        ("415-555-2671 ext. 7", "US", "415-555-2671 ext. 7"),
    ],
)
def test_normalize_phone(raw, region, expected):
    assert phones.normalize_phone(raw, region) == expected
