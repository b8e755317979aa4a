"""Settings → API keys: Owners and Managers make, see and revoke the
agency's keys; the secret is shown once and only its hash is kept."""
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from portal.models import ApiKey, AuditEvent
from tests import factories
from tests.conftest import csrf_token

SECRET = re.compile(r'id="secret-key" type="text" value="(ka_live_[A-Za-z0-9_-]+)" readonly')


@pytest.fixture
def agency(session):
    return factories.agency(session, people={"owner": "owner", "manager": "manager", "member": "member"},
                            brands=["north"])


def create(auth, **form):
    data = {"name": "Publisher", "scopes": ["profiles:read", "tokens:read", "links:write"], "brand": "", **form}
    return auth.post("/settings/api-keys", data=data)


def test_a_new_key_is_shown_once_and_only_its_hash_kept(auth, agency, session):
    auth.login("manager@example.test")
    page = auth.client.get("/settings/api-keys").get_data(as_text=True)
    assert page.count('name="scopes"') == 3 and page.count("checked") >= 3  # all ticked by default
    answer = create(auth)
    assert answer.status_code == 201
    html = answer.get_data(as_text=True)
    secret = SECRET.search(html).group(1)
    assert "Secret key" in html and "data-copy" in html
    key = session.exec(select(ApiKey)).one()
    assert key.organization_id == agency.org.id and key.scopes == "profiles:read tokens:read links:write"
    assert key.secret_hash != secret and secret.startswith(key.prefix) and key.brand_id is None
    again = auth.client.get("/settings/api-keys").get_data(as_text=True)
    assert secret not in again and f"{key.prefix}…" in again and "Never" in again
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "api_key.created")).one()
    assert event.organization_id == agency.org.id and event.data["prefix"] == key.prefix
    assert secret not in repr(event)


def test_a_key_limited_to_a_brand_and_a_day(auth, agency, session):
    auth.login("owner@example.test")
    until = date.today() + timedelta(days=10)
    answer = create(auth, scopes=["tokens:read"], brand=str(agency.brands["north"].id),
                    expires_on=until.isoformat())
    assert answer.status_code == 201
    key = session.exec(select(ApiKey)).one()
    assert key.scopes == "tokens:read" and key.brand_id == agency.brands["north"].id
    assert key.expires_at.date() == until + timedelta(days=1)


@pytest.mark.parametrize(("form", "message"), [
    ({"name": ""}, "This field is required."),
    ({"scopes": []}, "Choose at least one thing the key may do."),
    ({"scopes": ["admin:all"]}, "is not a valid choice"),
    ({"brand": "999"}, "Not a valid choice"),
    ({"expires_on": "2001-01-01"}, "Choose today or a later day"),
    ({"expires_on": "soon"}, "Not a valid date value."),
])
def test_bad_input_keeps_the_form_and_says_why(auth, agency, session, form, message):
    auth.login("owner@example.test")
    fields = {"name": "Kept name", **form}  # the parameter is shared by both databases' runs: left as it is
    answer = create(auth, **fields)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert message in html
    if "name" not in form:
        assert 'value="Kept name"' in html  # what was typed stays in its field
    assert session.exec(select(ApiKey)).first() is None


def test_the_list_shows_what_each_key_may_do_its_brand_and_its_last_use(auth, agency, client):
    auth.login("owner@example.test")
    created = create(auth, name="Reporter", scopes=["profiles:read"], brand=str(agency.brands["north"].id))
    secret = SECRET.search(created.get_data(as_text=True)).group(1)
    used = client.get("/api/v1/profiles", headers={"Authorization": f"Bearer {secret}"},
                      environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert used.status_code == 200
    page = auth.client.get("/settings/api-keys").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><strong>Reporter</strong>.*?</tr>", page, re.S).group(0)
    assert "<code>profiles:read</code>" in row and "tokens:read" not in row and "links:write" not in row
    assert "Brand north" in row
    assert "from 192.0.2.7" in row and "Never" not in row


def test_revoking_a_key(auth, agency, session):
    auth.login("owner@example.test")
    create(auth)
    key = session.exec(select(ApiKey)).one()
    answer = auth.post(f"/settings/api-keys/{key.id}/revoke")
    assert answer.status_code == 303
    session.rollback()
    session.expire_all()
    assert session.get(ApiKey, key.id).revoked_at is not None
    assert "Revoked" in auth.client.get("/settings/api-keys").get_data(as_text=True)
    assert auth.post(f"/settings/api-keys/{key.id}/revoke").status_code == 303  # twice: nothing more
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "api_key.revoked")).all()) == 1


def test_members_do_not_reach_api_keys(auth, agency):
    auth.login("member@example.test")
    assert auth.client.get("/settings/api-keys").status_code == 403
    assert create(auth).status_code == 403
    assert "API keys" not in auth.client.get("/settings/personal").get_data(as_text=True)


def test_revoking_needs_the_csrf_token(auth, agency, session, client):
    auth.login("owner@example.test")
    create(auth)
    key = session.exec(select(ApiKey)).one()
    assert client.post(f"/settings/api-keys/{key.id}/revoke").status_code == 400
    assert csrf_token(client)
    session.rollback()
    session.expire_all()
    assert session.get(ApiKey, key.id).revoked_at is None
