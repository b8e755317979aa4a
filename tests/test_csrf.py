"""Every route that changes state refuses a request without a CSRF token.

The routes are read from the URL map, so a route added later is covered
without touching this file; only the allowlist below is exempt.
"""
import pytest
from flask import url_for

from portal.web import IdConverter

from tests.test_isolation import ID_ROUTES, build_agency, snapshot

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

# Blueprints and endpoints that cannot carry the portal's CSRF token, and why.
ALLOWED_BLUEPRINTS = {
    # The sandbox plays the social networks: its token endpoints are called
    # server to server and its consent and control pages stand for the
    # networks' own sites. It is mounted only when SANDBOX is on.
    "sandbox",
    # The token API reads no cookie: a request is authenticated by the bearer
    # key it carries, which another site cannot make a browser send
    # (tests/api/test_keys.py: a signed-in browser gets 401 there).
    "api",
}
ALLOWED_ENDPOINTS = set()

# What the error page says when the token is missing (templates/error.html).
CSRF_REFUSAL = "The form expired or was sent from another page."
# Form fields that many routes accept, so that a route without CSRF
# protection would have succeeded and changed something.
PLAUSIBLE_FORM = {
    "name": "Changed", "role": "manager", "email": "someone@example.test", "expiry_window_days": "9",
    "notification_thresholds": "5,0", "enabled": "true", "can_manage_profiles": "true", "all": "admin",
    "level": "admin", "locale": "fr",
}


def url_arguments(rule, own):
    """Values for the rule's arguments: this agency's real objects where the
    argument names one (so that, without CSRF protection, the request would
    really change something), else a placeholder."""
    arguments = ID_ROUTES.get(rule.endpoint, ({}, {}))[0]
    values = {}
    for name, converter in rule._converters.items():
        if name in arguments:
            values[name] = own[arguments[name]].id
        elif isinstance(converter, IdConverter):
            values[name] = 1
        else:
            values[name] = "x"
    return values


@pytest.mark.usefixtures("sandbox_mounted")  # its routes too
def test_unsafe_requests_without_a_csrf_token_are_refused(app, client, auth, session):
    with app.app_context():
        own = build_agency(session, "Alpha")
    blueprints = {rule.endpoint.partition(".")[0] for rule in app.url_map.iter_rules()}
    assert ALLOWED_BLUEPRINTS <= blueprints, "an allowlisted blueprint is gone"
    assert ALLOWED_ENDPOINTS <= {rule.endpoint for rule in app.url_map.iter_rules()}, "an allowlisted route is gone"

    checked = []
    auth.login(own["owner"].email)
    engine = app.extensions["keepalive.engine"]
    before = snapshot(engine)
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if rule.endpoint in ALLOWED_ENDPOINTS or rule.endpoint.partition(".")[0] in ALLOWED_BLUEPRINTS:
            continue
        for method in sorted(UNSAFE & rule.methods):
            with app.test_request_context():
                path = url_for(rule.endpoint, **url_arguments(rule, own))
            for headers in ({}, {"HX-Request": "true"}):
                response = client.open(path, method=method, headers=headers, data=PLAUSIBLE_FORM)
                assert response.status_code == 400, f"{method} {path} {headers}: {response.status_code}"
                # Refused for the missing token, not for some other fault of the form.
                assert CSRF_REFUSAL in response.get_data(as_text=True), f"{method} {path}: not a CSRF refusal"
                checked.append(f"{method} {rule.endpoint}")
    assert snapshot(engine) == before, "a request without a CSRF token changed the database"
    # Still signed in: the refusals ended nothing.
    assert client.get("/settings/members").status_code == 200
    assert "POST settings.member_role" in checked and "POST auth.logout" in checked
