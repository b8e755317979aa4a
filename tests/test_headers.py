"""Security headers on every answer (`portal.headers`), and templates a
Content-Security-Policy without inline script or style does not break."""
import re
from pathlib import Path

import pytest

from portal import create_app
from portal.headers import CONTENT_SECURITY_POLICY, SECRET_IN_URL
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def owner(session, auth):
    made = factories.agency(session, profiles={"page": {"credential": {}}})
    auth.login(made.owner.email)
    return made


def assert_protected(response):
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


def test_every_answer_carries_the_security_headers(client, owner):
    profile = owner.profiles["page"]
    for path in ("/", "/accounts", f"/accounts/{profile.id}", "/settings/personal", "/accounts/99999",
                 "/static/css/keepalive.css", "/healthz", "/sw.js", "/api/v1/profiles"):
        with client.get(path) as response:
            assert_protected(response)
    assert_protected(client.post("/settings/switch", data={}))  # a refused POST (no CSRF token)
    assert_protected(client.get("/renew/client/not-a-secret"))
    assert client.get("/").headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_signed_out_pages_carry_them_too(client):
    for path in ("/login", "/reset", "/nowhere"):
        assert_protected(client.get(path))


def test_signed_in_pages_are_not_stored_unless_the_view_says_how(client, owner):
    for path in ("/settings/personal", f"/accounts/{owner.profiles['page'].id}", "/notifications",
                 "/accounts/export.csv", "/settings/activity.csv"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path
    # Manage Accounts answers conditional GETs (its ETag): the browser keeps it and asks again.
    assert client.get("/accounts").headers["Cache-Control"] == "private, no-cache"
    # The same files for everyone keep their own caching.
    with client.get("/static/css/keepalive.css") as response:
        assert response.headers.get("Cache-Control") != "no-store"


def test_a_signed_out_page_that_shows_no_secret_may_be_kept(client):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")


def test_pages_with_a_secret_in_their_url_are_not_stored_nor_referred(client):
    for path in ("/renew/client/not-a-secret", "/reset/not-a-secret", "/invitations/not-a-secret"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path


def test_every_page_with_a_secret_in_its_url_says_so_whatever_it_answers(app, client, owner):
    """Each endpoint of `SECRET_IN_URL` is one of the app's (a renamed one
    would drop out unseen), and its answers, signed in or not, to a GET or a
    POST refused for its missing CSRF token, are neither kept nor referred."""
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint in SECRET_IN_URL]
    assert {rule.endpoint for rule in rules} == SECRET_IN_URL
    for rule in rules:
        path = rule.build({name: "1" if name.endswith("_id") else "x" for name in rule.arguments})[1]
        method = "GET" if "GET" in rule.methods else "POST"
        for response in (client.open(path, method=method), app.test_client().open(path, method=method)):
            assert response.headers["Cache-Control"] == "no-store", (method, path)
            assert response.headers["Referrer-Policy"] == "no-referrer", (method, path)


def test_hsts_in_production_only(client, app_config):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    app = create_app({**app_config, "ENV_NAME": "production"})
    try:
        hsts = app.test_client().get("/login").headers["Strict-Transport-Security"]
    finally:
        app.extensions["keepalive.engine"].dispose()
    assert hsts.startswith("max-age=31536000")


@pytest.mark.usefixtures("sandbox_mounted")
def test_the_development_tools_keep_their_own_policy(client):
    """The sandbox's pages and captured mail style themselves inline: their policy allows it, still unframed."""
    for path in ("/sandbox/admin", "/dev/mail/"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "'unsafe-inline'" in policy and "frame-ancestors 'none'" in policy


# What a policy without 'unsafe-inline' and 'unsafe-eval' refuses in a page.
INLINE = {
    "an inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I),
    "a style element": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"<[a-z][^<>]*\sstyle=[\"']", re.I),
    "an event handler attribute": re.compile(r"<[a-z][^<>]*\son[a-z]+=[\"']", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "htmx code (hx-on, a trigger filter, js: values)": re.compile(r"hx-on|hx-trigger=\"[^\"]*\[|hx-vals=['\"]\s*js:", re.I),
}


def test_the_product_templates_and_scripts_need_no_inline_code():
    pages = [path for path in (ROOT / "templates").rglob("*.html") if "email" not in path.parts]
    found = [f"{path.relative_to(ROOT)}: {what}" for path in pages for what, pattern in INLINE.items()
             if pattern.search(path.read_text())]
    scripts = [path for path in (ROOT / "static" / "js").rglob("*.js")]
    found += [f"{path.relative_to(ROOT)}: eval" for path in scripts
              if re.search(r"\beval\(|new Function\(|\.innerHTML\s*=|setAttribute\(\s*[\"']style", path.read_text())]
    assert found == []


def test_htmx_is_told_to_evaluate_nothing_and_add_no_style():
    base = (ROOT / "templates" / "base.html").read_text()
    assert '"allowEval":false' in base and '"includeIndicatorStyles":false' in base
    for template in (ROOT / "templates").rglob("*.html"):
        for config in re.findall(r"block htmx_config %\}(.*?)\{% endblock", template.read_text()):
            assert '"allowEval":false' in config and '"includeIndicatorStyles":false' in config, template
