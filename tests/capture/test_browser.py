"""Real headless Chromium against the live API: per-key CORS and plain HTML form posts.

The API runs on pytest-django's live server (http://localhost:<port>); the "websites" are
plain http.server instances on other loopback ports, so every request here is cross-origin
exactly as on the Internet.
"""

import html
import importlib.util
import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from leads.models import Lead
from tests.capture.factories import ApiKeyFactory
from tests.factories import MembershipFactory
from tests.leads.factories import AssignmentRuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_SECONDS = 20


class _Site:
    """A tiny static website on its own loopback port (its own origin)."""

    def __init__(self):
        self.pages: dict[str, str] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def sites():
    allowed, foreign = _Site(), _Site()
    yield allowed, foreign
    allowed.close()
    foreign.close()


@pytest.fixture
def browser(tmp_path):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if importlib.util.find_spec("selenium") is None:
        missing.append("selenium (pip)")
    if missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Browser tests must run in CI, but these are missing: {missing}")
        pytest.skip(f"Chromium/chromedriver not installed: {missing}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    driver.set_script_timeout(WAIT_SECONDS)
    yield driver
    driver.quit()


def _wait_for_result(driver) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.find_element(By.ID, "result").text or False
    )


def _form_page(action: str, thank_you: str, last_name: str) -> str:
    return f"""<!doctype html><html><body>
<form id="lead" method="post" action="{html.escape(action)}">
  <input name="first_name" value="Form">
  <input name="last_name" value="{last_name}">
  <input name="email" value="{last_name.lower()}@example.com">
  <input type="hidden" name="thank_you_url" value="{html.escape(thank_you)}">
  <div style="display:none"><input name="website_url" value=""></div>
  <button id="send" type="submit">Send</button>
</form></body></html>"""


def _fetch_page(url: str, last_name: str, headers: dict) -> str:
    payload = json.dumps({"first_name": "Fetch", "last_name": last_name})
    return f"""<!doctype html><html><body><pre id="result"></pre><script>
const show = text => {{ document.getElementById("result").textContent = text; }};
fetch({json.dumps(url)}, {{
  method: "POST",
  headers: Object.assign({{"Content-Type": "application/json"}}, {json.dumps(headers)}),
  body: {json.dumps(payload)},
}}).then(r => r.json().then(body => show("status:" + r.status + " id:" + body.id)))
  .catch(error => show("blocked:" + error.name));
</script></body></html>"""


@pytest.fixture
def capture_setup(live_server, sites, org, other_org):
    allowed, _ = sites
    assignee = MembershipFactory(org=org).user
    # A catch-all rule in ANOTHER organization must never touch our leads.
    AssignmentRuleFactory(org=other_org, users=[MembershipFactory(org=other_org).user])
    api_key = ApiKeyFactory(org=org, allowed_origins=[allowed.origin])
    api_key.default_assigned_to.set([assignee])
    endpoint = f"{live_server.url}/api/leads/create-from-site/"
    return api_key, assignee, endpoint


def test_form_post_from_allowed_origin_creates_lead_and_redirects(
    browser, sites, capture_setup, org
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    allowed, _ = sites
    api_key, assignee, endpoint = capture_setup
    allowed.pages["/thanks.html"] = '<html><body><p id="result">Thank you!</p></body></html>'
    allowed.pages["/form.html"] = _form_page(
        f"{endpoint}?apikey={api_key.secret}", f"{allowed.origin}/thanks.html", "Allowed"
    )
    browser.get(f"{allowed.origin}/form.html")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: d.current_url.endswith("/thanks.html"))
    assert _wait_for_result(browser) == "Thank you!"

    lead = Lead.objects.for_org(org).get(last_name="Allowed")
    assert lead.email == "allowed@example.com"
    assert list(lead.assigned_to.all()) == [assignee]


def test_form_post_from_another_origin_is_refused(browser, sites, capture_setup, org):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    allowed, foreign = sites
    api_key, _, endpoint = capture_setup
    foreign.pages["/form.html"] = _form_page(
        f"{endpoint}?apikey={api_key.secret}", f"{allowed.origin}/thanks.html", "Foreign"
    )
    browser.get(f"{foreign.origin}/form.html")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, WAIT_SECONDS).until(lambda d: "origin_not_allowed" in d.page_source)
    assert not Lead.objects.for_org(org).filter(last_name="Foreign").exists()


@pytest.mark.parametrize("key_in", ["query", "header"])
def test_fetch_from_allowed_origin_reads_the_created_lead(
    browser, sites, capture_setup, org, key_in
):
    allowed, _ = sites
    api_key, assignee, endpoint = capture_setup
    if key_in == "query":
        url, headers = f"{endpoint}?apikey={api_key.secret}", {}
    else:
        url, headers = endpoint, {"X-API-Key": api_key.secret}
    allowed.pages["/fetch.html"] = _fetch_page(url, "Fetched", headers)
    browser.get(f"{allowed.origin}/fetch.html")
    result = _wait_for_result(browser)

    lead = Lead.objects.for_org(org).get(last_name="Fetched")
    assert result == f"status:201 id:{lead.pk}"
    assert list(lead.assigned_to.all()) == [assignee]


def test_fetch_from_disallowed_origin_is_blocked_by_the_browser(browser, sites, capture_setup, org):
    _, foreign = sites
    api_key, _, endpoint = capture_setup
    foreign.pages["/fetch.html"] = _fetch_page(f"{endpoint}?apikey={api_key.secret}", "Blocked", {})
    browser.get(f"{foreign.origin}/fetch.html")
    assert _wait_for_result(browser) == "blocked:TypeError"
    assert not Lead.objects.for_org(org).filter(last_name="Blocked").exists()
