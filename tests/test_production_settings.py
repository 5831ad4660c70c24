"""DJANGO_ENV=production: unsafe secrets refused at start, TLS settings on by default and
configurable, and Django's deployment checklist clean."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'proxy': s.SECURE_PROXY_SSL_HEADER, 'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS}))"
)


def _run(args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "crm.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _good_key():
    return secrets.token_urlsafe(50)


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("change-me", "published example"),
        ("a" * 20 + "b" * 20, "at least 50 characters"),
        ("insecure-development-key-do-not-use-in-production", "published example"),
    ],
)
def test_production_refuses_short_or_example_secret_keys(secret, message):
    result = _run(["manage.py", "check"], DJANGO_ENV="production", DJANGO_SECRET_KEY=secret)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_turns_on_tls_settings_by_default():
    result = _run(["-c", PRINT_SETTINGS], DJANGO_ENV="production", DJANGO_SECRET_KEY=_good_key())
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "redirect": True,
        "hsts": 31536000,
        "proxy": ["HTTP_X_FORWARDED_PROTO", "https"],
        "subdomains": True,
    }


def test_production_tls_settings_are_configurable():
    result = _run(
        ["-c", PRINT_SETTINGS],
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=_good_key(),
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_HSTS_SECONDS="60",
        DJANGO_SECURE_PROXY_SSL_HEADER="false",
    )
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    assert (settings["redirect"], settings["hsts"], settings["proxy"]) == (False, 60, None)


def test_deployment_checklist_is_clean_with_production_settings():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY=_good_key(),
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
