"""Tenant isolation: no route that names an object by id lets one agency
reach another agency's object.

Every rule of the URL map with an `<int:...>` argument is collected; each
must appear in ID_ROUTES (which kind of object each id names) or in
NOT_AGENCY_OBJECTS (with the reason). A route added later without an entry
is a failing case of its own, so it cannot slip through untested.
"""
import hashlib
import os
import tempfile
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask import url_for
from sqlmodel import SQLModel, select

from portal import create_app
from portal.audit import audit_in
from portal.db import utcnow
from portal.api import keys
from portal.models import ConnectInvitation, Invitation, Membership, Notification, RenewalLink, WebhookEndpoint
from portal.web import IdConverter
from tests import factories
from tests.conftest import csrf_token

# endpoint -> ({url argument: kind of object}, form data of a POST that would change something).
# An entry whose route is not (or no longer) in the app generates no case.
ID_ROUTES = {
    "settings.access_member": ({"membership_id": "membership"}, {"all": "admin"}),
    "settings.access_level": ({"membership_id": "membership", "profile_id": "profile"}, {"level": "admin"}),
    "settings.brand": ({"brand_id": "brand"}, {"name": "Taken over"}),
    "settings.brand_delete": ({"brand_id": "brand"}, {}),
    "settings.brand_profile": ({"brand_id": "brand", "profile_id": "profile"}, {"enabled": "true"}),
    "settings.invitation_revoke": ({"invitation_id": "invitation"}, {}),
    "settings.invitation_send_again": ({"invitation_id": "invitation"}, {}),
    "settings.member_remove": ({"membership_id": "membership"}, {}),
    "settings.member_role": ({"membership_id": "membership"}, {"role": "manager"}),
    "settings.member_manage_profiles": ({"membership_id": "membership"}, {"can_manage_profiles": "true"}),
    "renewal.renew": ({"profile_id": "profile"}, {}),
    "renewal.check": ({"profile_id": "profile"}, {}),
    "accounts.system_user_token": ({"profile_id": "profile"}, {"token": "EAAS-a-system-user-token"}),
    "accounts.profile": ({"profile_id": "profile"}, {}),
    "accounts.managers": ({"profile_id": "profile"}, {}),
    "accounts.row": ({"profile_id": "profile"}, {}),
    "accounts.row_menu": ({"profile_id": "profile"}, {}),
    "notifications.login_warning_item": ({"profile_id": "profile"}, {}),
    "links.send": ({"profile_id": "profile"}, {"email": "client@example.test", "language": "en"}),
    "links.revoke": ({"link_id": "renewal_link"}, {}),
    "notifications.read": ({"notification_id": "notification"}, {}),
    "notifications.open_notice": ({"notification_id": "notification"}, {}),
    "notifications.webhook": ({"endpoint_id": "webhook_endpoint"}, {"events": "token.expired", "active": "y"}),
    "notifications.webhook_delete": ({"endpoint_id": "webhook_endpoint"}, {}),
    "notifications.webhook_test": ({"endpoint_id": "webhook_endpoint"}, {}),
    "connect.invitation_revoke": ({"invitation_id": "connect_invitation"}, {}),
    "connect.remove": ({"profile_id": "profile"}, {}),
    "connect.invitation_send_again": ({"invitation_id": "connect_invitation"}, {}),
    "settings.api_key_revoke": ({"key_id": "api_key"}, {}),

}

# Routes of the token API, reached with the agency's API key instead of a
# signed-in browser (a cookie gets 401 there): endpoint -> ({url argument:
# kind of object}, JSON body of a POST).
KEYED_ROUTES = {
    "api.profile": ({"profile_id": "profile"}, None),
    "api.token": ({"profile_id": "profile"}, None),
    "api.report": ({"profile_id": "profile"}, {"http_status": 401}),
    "api.renewal_link": ({"profile_id": "profile"}, {"recipient": "client", "email": "client@example.test"}),
}

# Routes whose ids name no agency's object.
NOT_AGENCY_OBJECTS = {
    # The sandbox plays the social networks (the outside world); its grants belong to no agency.
    "sandbox.api_grant_action",
    "sandbox.api_system_user_token",
}

# Methods that read or change; HEAD and OPTIONS follow GET and the CORS machinery.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def id_rules(app):
    return [
        rule for rule in app.url_map.iter_rules()
        if any(isinstance(converter, IdConverter) for converter in rule._converters.values())
    ]


def build_agency(session, name):
    """An agency with one of every kind of object a URL can name."""
    made = factories.agency(
        session, name=name,
        people={role: {"role": role, "email": f"{role}@{name.lower()}.test"} for role in ("owner", "member")},
        brands={"brand": f"{name} brand"},
        profiles={"page": {"name": f"{name} page", "brands": ["brand"],
                           "credential": {"refresh_token": "refresh-" + name}}},
        rights=[("member", "page", "viewer")],
    )
    org, owner, member = made.org, made.owner, made.people["member"]
    brand, profile = made.brands["brand"], made.profiles["page"]
    secret_hash = hashlib.sha256(os.urandom(32)).hexdigest()  # a link nobody will open
    invitation = Invitation(organization_id=org.id, email=f"new@{name.lower()}.test", role="member",
                            secret_hash=secret_hash, expires_at=utcnow() + timedelta(days=3))
    link = RenewalLink(secret_hash=hashlib.sha256(os.urandom(32)).hexdigest(), profile_id=profile.id,
                       recipient=f"client@{name.lower()}.test", purpose="client",
                       expires_at=utcnow() + timedelta(days=3))
    notification = Notification(key=f"isolation-{name}", user_id=owner.id, organization_id=org.id,
                                profile_id=profile.id, kind="expiring", threshold_days=3)
    endpoint = WebhookEndpoint(organization_id=org.id, url=f"https://hooks.{name.lower()}.test/in",
                               sealed_secret="not-a-secret", events="token.expired")
    connect_invitation = ConnectInvitation(
        organization_id=org.id, email=f"client@{name.lower()}.test", networks="instagram",
        secret_hash=hashlib.sha256(os.urandom(32)).hexdigest(), invited_by_id=owner.id,
        expires_at=utcnow() + timedelta(days=7))
    session.add_all([invitation, link, notification, endpoint, connect_invitation])
    secret, api_key = keys.create(session, org.id, f"{name} tool", ["profiles:read", "tokens:read", "links:write"])
    session.commit()
    membership = session.exec(select(Membership).where(Membership.user_id == member.id)).one()
    return {
        "organization": org, "owner": owner, "member": member, "membership": membership,
        "brand": brand, "profile": profile, "invitation": invitation, "renewal_link": link,
        "notification": notification, "webhook_endpoint": endpoint, "connect_invitation": connect_invitation, "api_key": api_key, "api_secret": secret,
    }


def snapshot(engine):
    """Every row of every table: what "nothing changed" is compared against."""
    with engine.connect() as connection:
        return {
            table.name: sorted(map(repr, connection.execute(table.select()).all()))
            for table in SQLModel.metadata.sorted_tables
        }


@pytest.fixture
def agencies(app, session):
    with app.app_context():  # API keys are hashed with the app's secret
        return build_agency(session, "Alpha"), build_agency(session, "Bravo")


@contextmanager
def scratch_app():
    """An app made to read its URL map (collection runs before any fixture),
    in a scratch instance folder."""
    previous = os.environ.get("KEEPALIVE_INSTANCE")
    with tempfile.TemporaryDirectory() as instance:
        os.environ["KEEPALIVE_INSTANCE"] = instance
        try:
            app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{instance}/routes.sqlite"})
            yield app
            app.extensions["keepalive.engine"].dispose()
        finally:
            if previous is None:
                os.environ.pop("KEEPALIVE_INSTANCE", None)
            else:
                os.environ["KEEPALIVE_INSTANCE"] = previous


def url_map_rules():
    """(endpoint, methods) of every id-bearing rule."""
    with scratch_app() as app:
        rules = [(rule.endpoint, rule.methods) for rule in id_rules(app)]
    return sorted(rules, key=lambda rule: rule[0])


def cases():
    """(endpoint, method, which ids name the other agency's objects): every
    id foreign, and for routes with several ids each one foreign alone (an
    own brand must not take in another agency's profile). An endpoint
    missing from ID_ROUTES is a case of its own, which fails."""
    for endpoint, methods in url_map_rules():
        if endpoint in NOT_AGENCY_OBJECTS or endpoint in KEYED_ROUTES:
            continue
        if endpoint not in ID_ROUTES:
            yield pytest.param(endpoint, None, (), id=f"{endpoint}-unlisted")
            continue
        arguments, _ = ID_ROUTES[endpoint]
        variants = [tuple(arguments)]
        if len(arguments) > 1:
            variants += [(name,) for name in arguments]
        for method in sorted(set(METHODS) & methods):
            for foreign in variants:
                yield pytest.param(endpoint, method, foreign, id=f"{endpoint}-{method}-{'+'.join(foreign)}")


@pytest.mark.parametrize(("endpoint", "method", "foreign"), list(cases()))
def test_another_agencys_object_is_404(app, client, auth, agencies, endpoint, method, foreign):
    assert endpoint in ID_ROUTES, (
        f"{endpoint} names an object by id: add it to ID_ROUTES in {__name__} "
        "(or to NOT_AGENCY_OBJECTS, saying why)"
    )
    own, other = agencies
    arguments, data = ID_ROUTES[endpoint]
    values = {name: (other if name in foreign else own)[kind].id for name, kind in arguments.items()}
    with app.test_request_context():
        path = url_for(endpoint, **values)
    auth.login(own["owner"].email)  # an Owner: nothing but the agency boundary stands in the way
    token = csrf_token(client)
    engine = app.extensions["keepalive.engine"]
    before = snapshot(engine)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.open(path, method=method, data={**data, "csrf_token": token})
    assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    assert snapshot(engine) == before, f"{method} {path} changed the database"


def keyed_cases():
    for endpoint, methods in url_map_rules():
        if endpoint in KEYED_ROUTES:
            for method in sorted(set(METHODS) & methods):
                yield pytest.param(endpoint, method, id=f"{endpoint}-{method}")


@pytest.mark.parametrize(("endpoint", "method"), list(keyed_cases()))
def test_another_agencys_object_is_404_to_an_api_key(app, client, agencies, endpoint, method):
    own, other = agencies
    arguments, body = KEYED_ROUTES[endpoint]
    with app.test_request_context():
        path = url_for(endpoint, **{name: other[kind].id for name, kind in arguments.items()})
    engine = app.extensions["keepalive.engine"]
    before = snapshot(engine)
    response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {own['api_secret']}"})
    assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    assert response.mimetype == "application/problem+json"
    # Nothing changed but the key's own last use.
    after = snapshot(engine)
    assert {name: rows for name, rows in after.items() if name not in ("api_key", "audit_event")} == {
        name: rows for name, rows in before.items() if name not in ("api_key", "audit_event")}


# The activity log names its profile and person in the query string, not the path.
ACTIVITY_FILTERS = {"profile": "profile", "person": "owner"}


@pytest.mark.parametrize("path", ["/settings/activity", "/settings/activity.csv"])
@pytest.mark.parametrize("argument", sorted(ACTIVITY_FILTERS))
def test_another_agencys_profile_or_person_in_the_activity_filters_is_404(client, auth, agencies, path, argument):
    own, other = agencies
    auth.login(own["owner"].email)
    assert client.get(f"{path}?{argument}={own[ACTIVITY_FILTERS[argument]].id}").status_code == 200
    assert client.get(f"{path}?{argument}={other[ACTIVITY_FILTERS[argument]].id}").status_code == 404


def test_another_agencys_activity_never_shows(app, client, auth, session, agencies):
    own, other = agencies
    with app.app_context():
        for agency in (own, other):
            audit_in(session, "link.sent", organization_id=agency["organization"].id, profile=agency["profile"],
                     user=agency["owner"], recipient=f"client@{agency['organization'].name.lower()}.test")
        session.commit()
    auth.login(own["owner"].email)
    for path in ("/settings/activity", "/settings/activity.csv", "/settings/activity?kind=links&q=page"):
        body = client.get(path).get_data(as_text=True)
        assert "client@alpha.test" in body and "Alpha page" in body
        assert "client@bravo.test" not in body and "Bravo" not in body
