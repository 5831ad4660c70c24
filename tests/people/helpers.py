import re

from django.core import mail
from rest_framework.test import APIClient

TOKEN_IN_LINK = re.compile(r"[?&]token=([A-Za-z0-9_.%:-]+)")


def token_from_mail(message) -> str:
    from urllib.parse import unquote

    return unquote(TOKEN_IN_LINK.search(message.body).group(1))


def last_mail_to(address: str):
    matching = [m for m in mail.outbox if address in m.to]
    assert matching, f"no e-mail to {address}"
    return matching[-1]


def login(email: str, password: str):
    return APIClient().post("/api/auth/token/", {"email": email, "password": password})


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client
