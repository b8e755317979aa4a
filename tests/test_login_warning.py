"""The warning after sign-in: once, if asked for, listing only the tokens
at risk that the person may renew, with Renew buttons."""
from datetime import timedelta

from sqlmodel import select

from portal.links import service as links
from portal.links.rules import Purpose
from portal.models import NotificationPreference, SocialProfile
from tests import factories
from tests.conftest import csrf_token

DAY = timedelta(days=1)


def agency(session):
    made = factories.agency(
        session, name="Northwind",
        people={"owner": "owner", "member": {"role": "member", "can_manage_profiles": True}},
        profiles={
            "admin_of": {"name": "Member Admin Page", "credential": {"expires_in": 2 * DAY}},
            "viewer_of": {"name": "Member Viewer Page", "credential": {"expires_in": -DAY}},
            "healthy": {"name": "Healthy Page", "credential": {"expires_in": 60 * DAY}},
        },
        rights=[("member", "admin_of", "admin"), ("member", "viewer_of", "viewer")],
    )
    return made.org, made.owner, made.people["member"]


def warning(client):
    return client.get("/notifications/login-warning", headers={"HX-Request": "true"})


def test_shown_once_after_sign_in(app, client, auth, session):
    org, owner, member = agency(session)
    auth.login(owner.email)
    home = client.get("/").get_data(as_text=True)
    assert 'hx-get="/notifications/login-warning"' in home

    response = warning(client)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<dialog" in html and 'aria-labelledby="login-warning-title"' in html and "data-dialog" in html
    assert "Member Admin Page" in html and "Member Viewer Page" in html and "Healthy Page" not in html
    assert html.count("Renew Token") == 2
    # The head of the other dialogs, its Close first; each button names the profile and its network.
    assert html.index('class="dialog-head"') < html.index('class="dialog-body"') < html.index("Member Admin Page")
    assert '<span class="visually-hidden">Close</span>' in html.split('class="dialog-body"')[0]
    assert "Renew Token<span class=\"visually-hidden\"> of Member Admin Page on Facebook</span>" in html

    assert warning(client).status_code == 204  # once per sign-in
    assert 'hx-get="/notifications/login-warning"' not in client.get("/").get_data(as_text=True)


def test_a_member_sees_only_profiles_they_may_renew(app, client, auth, session):
    org, owner, member = agency(session)
    auth.login(member.email)
    html = warning(client).get_data(as_text=True)
    assert "Member Admin Page" in html
    assert "Member Viewer Page" not in html


def test_not_shown_when_switched_off(app, client, auth, session):
    org, owner, member = agency(session)
    session.add(NotificationPreference(user_id=owner.id, organization_id=org.id, login_warning=False))
    session.commit()
    auth.login(owner.email)
    assert warning(client).status_code == 204


def test_not_shown_when_nothing_is_at_risk(app, client, auth, session):
    org = factories.organization(session)
    owner = factories.member(session, org, role="owner")
    page = factories.profile(session, org)
    with app.app_context():
        factories.credential(session, page, expires_in=60 * DAY)
    auth.login(owner.email)
    assert warning(client).status_code == 204


def test_renew_from_the_dialog_without_a_silent_renewal_goes_to_consent(app, client, auth, session):
    org, owner, member = agency(session)
    auth.login(member.email)
    page_id = session.exec(select(SocialProfile.id).where(SocialProfile.name == "Member Admin Page")).one()
    response = auth.post(f"/profiles/{page_id}/renew", {"next": "/"},
                         headers={"HX-Request": "true", "HX-Target": f"login-warning-item-{page_id}"})
    assert response.status_code == 200 and response.headers["HX-Redirect"]  # on to the network's consent page
    viewer_id = session.exec(select(SocialProfile.id).where(SocialProfile.name == "Member Viewer Page")).one()
    assert auth.post(f"/profiles/{viewer_id}/renew").status_code == 403


def test_waits_beyond_the_page_of_an_emailed_renewal_link(app, client, session):
    """Who signs in to follow an emailed link sees that page uncovered; the warning comes on the next one."""
    org, owner, member = agency(session)
    page = session.exec(select(SocialProfile).where(SocialProfile.name == "Member Admin Page")).one()
    secret, _ = links.issue(session, page, member.email, Purpose.MEMBER)
    session.commit()
    link = f"/renew/link/{secret}"
    response = client.post(f"/login?next={link}", data={"email": member.email, "password": factories.PASSWORD,
                                                         "csrf_token": csrf_token(client)})
    assert response.status_code == 303 and response.headers["Location"].endswith(link)
    html = client.get(link).get_data(as_text=True)
    assert "Renew the token of Member Admin Page" in html
    assert "/notifications/login-warning" not in html
    assert 'hx-get="/notifications/login-warning"' in client.get("/").get_data(as_text=True)


def test_a_silent_renewal_from_the_dialog_leads_to_its_item_renewed_in_place(app, client, auth, session, monkeypatch):
    from portal.models import Credential
    from portal.renewal import views as renewal_views
    from portal.renewal.silent import Outcome, Result

    org, owner, member = agency(session)
    page_id = session.exec(select(SocialProfile.id).where(SocialProfile.name == "Member Admin Page")).one()

    def renewed(profile_id, adapter, **kwargs):
        session.rollback()
        credential = session.exec(select(Credential).where(Credential.profile_id == profile_id)).one()
        credential.expires_at = credential.expires_at + 60 * DAY
        session.add(credential)
        session.commit()
        return Outcome(Result.RENEWED)

    monkeypatch.setattr(renewal_views, "renew_silently", renewed)
    auth.login(member.email)
    html = warning(client).get_data(as_text=True)
    fragment = f"/notifications/login-warning/items/{page_id}"
    assert f'name="fragment" value="{fragment}"' in html
    response = auth.post(f"/profiles/{page_id}/renew", {"next": "/", "fragment": fragment},
                         headers={"HX-Request": "true", "HX-Target": f"login-warning-item-{page_id}"})
    assert response.status_code == 303 and response.headers["Location"] == fragment
    item = client.get(fragment, headers={"HX-Request": "true"})
    assert item.status_code == 200 and item.headers["HX-Trigger"] == "tokens-changed"
    body = item.get_data(as_text=True)
    assert body.strip().startswith(f'<li class="token-item status-valid" id="login-warning-item-{page_id}">')
    assert '<span class="token-status" role="status">The token of Member Admin Page is renewed.</span>' in body
    assert "Renew Token" not in body
    # Only profiles the person may see have an item; another agency's answer 404.
    hidden_id = session.exec(select(SocialProfile.id).where(SocialProfile.name == "Healthy Page")).one()
    assert client.get(f"/notifications/login-warning/items/{hidden_id}").status_code == 404
    stranger = factories.profile(session, factories.organization(session), name="Stranger")
    assert client.get(f"/notifications/login-warning/items/{stranger.id}").status_code == 404
