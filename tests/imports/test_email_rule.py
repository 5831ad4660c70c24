"""The import's fast e-mail check gives the API's answer (Django's validate_email)."""

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from leads.imports.validate import email_is_valid

ADDRESSES = [
    "ada@example.com",
    "ADA.Lovelace+crm@Example.CO.uk",
    "a@localhost",
    "user@[127.0.0.1]",
    "user@[::1]",
    "user@[999.1.1.1]",
    '"quoted user"@example.com',
    "no-at-sign.example.com",
    "two@@example.com",
    "a@b@example.com",
    "trailing-dot@example.com.",
    "user@-bad-.com",
    "user@exa_mple.com",
    "user@xn--bcher-kva.example",
    "user@bücher.example",
    "üser@example.com",
    "user@example",
    "user@.com",
    ".user@example.com",
    "user.@example.com",
    "us..er@example.com",
    "user@" + "a" * 64 + ".com",
    "a" * 310 + "@example.com",
    "user name@example.com",
    "user@exam ple.com",
    "@example.com",
    "user@",
    "",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_same_answer_as_the_api(address):
    try:
        validate_email(address)
        expected = True
    except ValidationError:
        expected = False
    assert email_is_valid(address) is expected
