"""The console's "cognito" sign-in in headless chromium: `load-manager serve --console-config` says
mode "cognito", and a fake of Cognito's hosted UI (tests/support/fake_cognito.py) checks the PKCE
verifier against the challenge. Also CloudFront's viewer-request function from template.yaml, run in
the browser's JavaScript engine against the rule `serve` applies."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect
from support.fake_cognito import CLIENT_ID, FakeCognito, s256
from support.results import finished_run
from support.scripts import b64
from support.serve import serve

from load_manager.deploy.console_files import is_asset_path
from load_manager.ids import now_ms
from load_manager.store.sqlite import build_sqlite_stores
from load_manager_local.template import load_template

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EDITORS = ["load-manager-editors"]  # they create tests (role editor)
USERS = {
    "ana@example.com": {"custom:accountId": "acme", "cognito:groups": EDITORS}, "bo@example.com": {"custom:accountId": "globex", "cognito:groups": EDITORS},
    "lu@example.com": {"custom:accountId": "local", "cognito:groups": EDITORS},
}  # fmt: skip
SCRIPT = "from locust import HttpUser, task\n\n\nclass U(HttpUser):\n    @task\n    def index(self):\n        self.client.get('/')\n"


@pytest.fixture(scope="module")
def serve_data(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cognito-serve")


@pytest.fixture(scope="module")
def cognito(tmp_path_factory, serve_data):
    """(the fake hosted UI, the console's URL) with the console's /config.json in mode "cognito"."""
    fake = FakeCognito(users=USERS).start()
    config = tmp_path_factory.mktemp("console-config") / "config.json"
    config.write_text(json.dumps({"apiBase": "", "auth": {"mode": "cognito", "domain": fake.url, "clientId": CLIENT_ID, "scopes": ["openid", "email"]}}))
    try:
        with serve(serve_data, extra_args=("--console-config", str(config))) as url:
            fake.redirect_uris.add(f"{url}/auth/callback")
            fake.logout_uris.add(f"{url}/")
            for email, name in (("ana@example.com", "acme-checkout"), ("bo@example.com", "globex-search")):
                body = {"name": name, "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SCRIPT)}
                answer = requests.post(f"{url}/v1/load-tests", json=body, headers={"Authorization": f"Bearer {fake.id_token(email)}"}, timeout=10)
                assert answer.status_code == 201, answer.text
            yield fake, url
    finally:
        fake.stop()


@pytest.fixture
def tab(page, browser_context, cognito):
    """A tab with no hosted UI session (the session's cookie would otherwise carry over between tests)."""
    browser_context.clear_cookies()
    cognito[0].grants.clear()
    return page


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# A page that goes on to sign in navigates away by itself: wait only for the response ("commit"),
# or Playwright would call the later navigation an interruption of this one.
LEAVES = {"wait_until": "commit"}


def _sign_in(page, fake: FakeCognito, url: str, path: str = "/tests", email: str = "ana@example.com") -> None:
    page.goto(f"{url}{path}", **LEAVES)
    page.wait_for_url(re.compile(re.escape(f"{fake.url}/oauth2/authorize?")))
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}{path}")
    expect(page.get_by_test_id("signed-in-user")).to_have_text(email)


def _stored_tokens(page) -> dict:
    return json.loads(page.evaluate("sessionStorage.getItem('load-manager.tokens')"))


def _expire_tokens(page) -> None:
    page.evaluate("""() => {
        const tokens = JSON.parse(sessionStorage.getItem('load-manager.tokens'));
        sessionStorage.setItem('load-manager.tokens', JSON.stringify({ ...tokens, expiresAt: 0 }));
    }""")


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sign_in_with_pkce_and_the_api_gets_the_id_token_with_the_tenant(tab, cognito, check_page):
    fake, url = cognito
    authorizations: list[str | None] = []
    tab.on("request", lambda request: authorizations.append(request.headers.get("authorization")) if "/v1/" in request.url else None)
    tab.goto(f"{url}/tests?from=bookmark", **LEAVES)
    tab.wait_for_url(re.compile(re.escape(f"{fake.url}/oauth2/authorize?")))
    assert "code_challenge_method=S256" in tab.url and f"redirect_uri={requests.utils.quote(url, safe='')}" in tab.url
    tab.get_by_label("Email").fill("ana@example.com")
    tab.get_by_role("button", name="Sign in").click()

    tab.wait_for_url(f"{url}/tests?from=bookmark")  # back where the user was going, the callback gone
    expect(tab.get_by_test_id("signed-in-user")).to_have_text("ana@example.com")
    expect(tab.get_by_test_id("test-row").filter(has_text="acme-checkout")).to_be_visible()
    expect(tab.get_by_test_id("test-row").filter(has_text="globex-search")).to_have_count(0)  # another tenant's
    assert [(g["grant_type"], g["status"]) for g in fake.grants] == [("authorization_code", 200)]  # PKCE verified
    tokens = _stored_tokens(tab)
    assert tokens["idToken"] == fake.grants[0]["id_token"] and tokens["refreshToken"]
    assert tab.evaluate("sessionStorage.getItem('load-manager.sign-in')") is None  # the verifier is spent
    assert tab.evaluate("localStorage.length") == 0
    assert authorizations and set(authorizations) == {f"Bearer {tokens['idToken']}"}
    claims = _claims(tokens["idToken"])
    assert (claims["token_use"], claims["aud"], claims["custom:accountId"]) == ("id", CLIENT_ID, "acme")
    check_page(tab, "tests list, signed in")


def test_an_expiring_token_is_refreshed_and_a_refused_refresh_signs_in_again(tab, cognito):
    fake, url = cognito
    _sign_in(tab, fake, url)
    first = _stored_tokens(tab)["idToken"]

    # Expired from a page that runs no script: the signed-in page may still be loading, and a
    # request it starts after the expiry would make a refresh of its own, racing the one checked.
    tab.goto(f"{url}/favicon.svg")
    _expire_tokens(tab)
    with tab.expect_request(re.compile(re.escape(f"{url}/v1/load-tests"))) as listed:
        tab.goto(f"{url}/tests", **LEAVES)
    assert [(g["grant_type"], g["status"]) for g in fake.grants] == [("authorization_code", 200), ("refresh_token", 200)]
    refreshed = fake.grants[-1]["id_token"]
    assert refreshed != first and listed.value.headers["authorization"] == f"Bearer {refreshed}"
    assert _stored_tokens(tab)["refreshToken"]  # kept: Cognito sends no new refresh token

    # The refresh token is revoked: the console goes back through the hosted UI, whose session
    # still stands, so the user lands on the page they asked for without typing anything.
    # Expired from the same script-free page: no console page is left alive to start a sign-in of
    # its own (with its own page to come back to) while the tab goes to /clusters.
    fake.revoke_all()
    tab.goto(f"{url}/favicon.svg")
    _expire_tokens(tab)
    tab.goto(f"{url}/clusters", **LEAVES)
    _wait_for(lambda: [g["grant_type"] for g in fake.grants].count("authorization_code") == 2)
    assert ("refresh_token", 400) in [(g["grant_type"], g["status"]) for g in fake.grants]
    tab.wait_for_url(f"{url}/clusters")
    expect(tab.get_by_role("heading", name="Clusters", exact=True)).to_be_visible()
    assert _stored_tokens(tab)["idToken"] == fake.grants[-1]["id_token"]


def test_sign_out_revokes_and_ends_the_hosted_ui_session(tab, cognito):
    fake, url = cognito
    _sign_in(tab, fake, url, path="/clusters", email="bo@example.com")
    refresh_token = _stored_tokens(tab)["refreshToken"]
    assert refresh_token in fake.refresh_tokens

    tab.get_by_test_id("sign-out").click()
    # Cognito's /logout sends the browser to the console's sign-out URI; with no session left, the
    # console starts a new sign-in and the hosted UI asks who you are.
    tab.wait_for_url(re.compile(re.escape(f"{fake.url}/oauth2/authorize?")))
    expect(tab.get_by_label("Email")).to_be_visible()
    assert fake.logouts == [f"{url}/"]
    assert refresh_token not in fake.refresh_tokens


def test_a_callback_not_started_here_is_refused_without_a_token_request(tab, cognito, check_page):
    fake, url = cognito
    tab.goto(f"{url}/auth/callback?code=stolen-code&state=forged")
    alert = tab.get_by_role("alert")
    expect(alert).to_contain_text("does not match a sign-in started in this tab")
    expect(alert).to_contain_text("SignInStateMismatch")
    assert fake.grants == []
    check_page(tab, "sign-in refused")


def test_a_401_signs_in_again_unless_the_sign_in_was_just_now(tab, cognito):
    fake, url = cognito
    _sign_in(tab, fake, url)
    not_a_token = "e30.W10.e30"  # serve answers 401: the payload is not a JSON object

    # Just signed in and already refused: a set-up problem (e.g. the authorizer's audience), which
    # signing in again would only loop on. The API's error is shown instead.
    tab.evaluate("(bad) => sessionStorage.setItem('load-manager.tokens', JSON.stringify({...JSON.parse(sessionStorage.getItem('load-manager.tokens')), idToken: bad, obtainedAt: Date.now()}))", not_a_token)
    tab.reload()
    expect(tab.get_by_role("alert").filter(has_text="Could not list the tests")).to_contain_text("Unauthorized")  # not the only call refused
    assert [g["grant_type"] for g in fake.grants] == ["authorization_code"]

    # An older session refused (revoked, pool changed): sign in again, back to the same page.
    tab.evaluate("() => sessionStorage.setItem('load-manager.tokens', JSON.stringify({...JSON.parse(sessionStorage.getItem('load-manager.tokens')), obtainedAt: 0}))")
    tab.reload(**LEAVES)
    _wait_for(lambda: [g["grant_type"] for g in fake.grants] == ["authorization_code", "authorization_code"])
    tab.wait_for_url(f"{url}/tests")
    expect(tab.get_by_test_id("test-row").filter(has_text="acme-checkout")).to_be_visible()


def test_signed_in_a_report_link_asks_the_api_with_the_token_and_opens_the_page(tab, cognito, serve_data):
    """A new tab carries no token: the console opens it in the click, asks `?format=link` with the
    token (in AWS a presigned S3 URL), then sends the tab there. Locally the link is the page's own
    API URL, which needs no token, for the tenant "local" (serve's caller without a token)."""
    fake, url = cognito
    test_id = requests.post(f"{url}/v1/load-tests", json={"name": "local-shop", "targetUrl": "http://127.0.0.1:9", "scriptContent": b64(SCRIPT)}, timeout=10).json()["id"]
    stores = build_sqlite_stores(str(serve_data / "load_manager.db"))  # serve's own store: a finished run, without running one
    run = finished_run("local", test_id, stores.revisions.get_by_number("local", test_id, 1).id, 1, now_ms() - 120_000, 60)
    stores.runs.insert(run)
    _sign_in(tab, fake, url, path=f"/runs/{run.id}", email="lu@example.com")
    link = tab.get_by_test_id("report-links").get_by_role("link", name="Results report")
    with tab.expect_request(lambda r: "format=link" in r.url) as asked, tab.context.expect_page() as opened:
        link.click()
    assert asked.value.headers["authorization"] == f"Bearer {_stored_tokens(tab)['idToken']}"
    popup = opened.value
    popup.wait_for_url(f"{url}/v1/runs/{run.id}/report")
    expect(popup.get_by_role("heading", level=1)).to_contain_text(f"local-shop: run {run.id[:8]}")
    assert tab.url == f"{url}/runs/{run.id}" and popup.evaluate("window.opener") is None
    popup.close()

    # The API cannot say where the page is: the tab opened for it closes, the page says why.
    # Closed as the console sees it (`window.closed` of the tab it opened): headless chromium marks a
    # popup closed by script at once but, once the popup has committed its blank page, may keep its
    # target alive for good, so Playwright's own `is_closed()` cannot be the verdict.
    tab.evaluate("""() => {
        const open = window.open;
        window.openedTabs = [];
        window.open = (...args) => { const opened = open.apply(window, args); window.openedTabs.push(opened); return opened; };
    }""")
    tab.route(re.compile(r"format=link"), lambda route: route.fulfill(status=500, json={"code": "InternalError", "message": "internal error"}))
    with tab.context.expect_page() as opened:
        link.click()
    expect(tab.get_by_test_id("report-link-error")).to_contain_text("Cannot open the report: internal error")
    assert tab.evaluate("window.openedTabs.length === 1 && window.openedTabs[0].closed")
    if not opened.value.is_closed():
        opened.value.close()


def test_a_console_without_sign_in_settings_says_what_to_set(tab, cognito):
    _, url = cognito
    tab.route(f"{url}/config.json", lambda route: route.fulfill(json={"apiBase": "", "auth": {"mode": "cognito", "domain": "", "clientId": ""}}))
    tab.goto(f"{url}/tests")
    expect(tab.get_by_role("alert")).to_contain_text("ConsoleAuthDomain and ConsoleClientId")
    expect(tab.get_by_role("alert")).to_contain_text("SignInNotConfigured")


def test_the_fake_hosted_ui_really_checks_the_pkce_verifier(cognito):
    fake, url = cognito
    verifier = "v" * 43
    query = {
        "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": f"{url}/auth/callback", "scope": "openid",
        "state": "s", "code_challenge": s256(verifier), "code_challenge_method": "S256", "username": "ana@example.com",
    }  # fmt: skip
    codes = []
    for _ in range(2):
        answer = requests.post(f"{fake.url}/login", data=query, allow_redirects=False, timeout=5)
        assert answer.status_code == 302
        codes.append(re.search(r"code=([^&]+)", answer.headers["Location"]).group(1))
    token = {"grant_type": "authorization_code", "client_id": CLIENT_ID, "redirect_uri": query["redirect_uri"]}
    wrong = requests.post(f"{fake.url}/oauth2/token", data={**token, "code": codes[0], "code_verifier": "w" * 43}, timeout=5)
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    right = requests.post(f"{fake.url}/oauth2/token", data={**token, "code": codes[1], "code_verifier": verifier}, timeout=5)
    assert right.status_code == 200 and _claims(right.json()["id_token"])["custom:accountId"] == "acme"
    again = requests.post(f"{fake.url}/oauth2/token", data={**token, "code": codes[1], "code_verifier": verifier}, timeout=5)
    assert again.status_code == 400  # a code is good once


def test_serve_sends_the_cognito_csp_and_refuses_a_bad_console_config(cognito, tmp_path):
    fake, url = cognito
    page = requests.get(f"{url}/tests", timeout=5)
    assert page.headers["content-security-policy"].endswith(f"; connect-src 'self' {fake.url}")
    assert requests.get(f"{url}/config.json", timeout=5).json()["auth"]["mode"] == "cognito"
    bad = tmp_path / "bad.json"
    bad.write_text('{"auth": {"mode": "password"}}')
    with pytest.raises(RuntimeError, match="exited with 3"), serve(tmp_path / "data", extra_args=("--console-config", str(bad))):  # a usage error: 3, as every load-manager command (README: The CLI)
        pass


# ---- CloudFront's viewer-request function (template.yaml), in a real JavaScript engine ----------

PATHS = [
    "/", "/tests", "/tests/", "/tests/abc/history", "/runs/compare", "/runs/x.y", "/auth/callback", "/index.html",
    "/config.json", "/src/main.js", "/vendor/uplot.css", "/favicon.svg", "/vendor/LICENSES/preact.txt",
    "/vendor/THIRD_PARTY_NOTICES.md", "/missing.png", "/app.css/", "/.hidden", "/name.", "/tests/abc.def",
    "/tests/abc/script", "/tests/abc/gates", "/tests/abc/automation", "/tests/abc/settings",  # a test's tabs: views
]  # fmt: skip


def test_cloudfront_views_function_applies_the_rule_of_serve(tab):
    code = load_template(ROOT / "template.yaml")["Resources"]["ConsoleViewsFunction"]["Properties"]["FunctionCode"]
    tab.goto("about:blank")
    rewritten = tab.evaluate(
        """([code, paths]) => {
            const handler = new Function(code + '; return handler;')();
            return paths.map((uri) => handler({ request: { uri, method: 'GET', headers: {} } }).uri);
        }""",
        [code, PATHS],
    )
    expected = [path if is_asset_path(path) else "/index.html" for path in PATHS]
    assert rewritten == expected
