"""The demo agency is backed by the sandbox network: its tokens are the
network's own, so renewals work in `make run` as they would for real."""
import re

import pytest
from sqlmodel import select

from devkit.demo import demo_world, native_roles, seed_demo
from portal.db import utcnow
from portal.models import CanRenew, Organization, SocialProfile
from portal.networks import adapter_for
from portal.renewal.credentials import token_set
from portal.status import Status, token_status
from tests.renewal.conftest import OWNER

pytestmark = pytest.mark.slow


def demo_profile(session, external_id):
    return session.exec(select(SocialProfile).where(SocialProfile.external_id == external_id)).one()


def test_demo_profiles_renew_silently_and_through_consent(live, session):
    seed_demo()
    live.http.cookies.clear()
    response = live.http.post("/login", data={
        "email": OWNER, "password": "keepalive-demo", "csrf_token": live.csrf(),
    })
    assert response.status_code == 303

    x = demo_profile(session, "demo-x-5001")  # valid, with a rotating refresh token
    version = live.current(x.id).version
    silent = live.renew(x.id)
    assert silent.status_code == 303 and silent.headers["location"] == "/"
    assert live.current(x.id).version == version + 1

    page = demo_profile(session, "demo-fb-page-1101")  # the owner's role changed: consent again
    assert live.current(page.id).is_invalid
    live.renew_interactively(page.id)
    assert not live.current(page.id).is_invalid
    assert re.search(r"Renewed: [^<]*Harbor Fitness", live.http.get("/").text)

    books = demo_profile(session, "demo-fb-page-1201")  # a system user's token from Business Manager
    tokens = token_set(live.current(books.id))
    assert tokens.token_type == "system_user" and tokens.expires_at is None
    assert adapter_for("facebook", live.app.config).validate(tokens).ok  # the network knows it as such


def renewer(spec):
    """Someone the network lets renew the profile: the first the demo says can."""
    return next(email for email, (can_renew, _role) in native_roles(spec).items() if can_renew == CanRenew.YES)


def test_every_demo_profile_renews_through_the_sandbox_consent(live, session):
    """The Owner (who may renew every profile) renews each demo profile through
    the network's consent, signing in there as someone the network lets renew
    it, on the account of the profile where one login is one account."""
    seed_demo()
    live.http.cookies.clear()
    assert live.http.post("/login", data={"email": OWNER, "password": "keepalive-demo",
                                          "csrf_token": live.csrf()}).status_code == 303
    organization = session.exec(select(Organization)).one()
    for spec in demo_world():
        profile = demo_profile(session, spec["external_id"])
        started = live.renew(profile.id, by="consent")
        assert started.status_code == 303, spec["external_id"]
        back = live.consent(started.headers["location"], email=renewer(spec), account=spec["external_id"])
        done = live.http.get(back)
        assert done.status_code == 303, spec["external_id"]
        assert any(kind == "success" and "Renewed:" in text for kind, text in live.flashes()), spec["external_id"]
        credential = live.current(profile.id)
        status = token_status(credential, utcnow(), organization.expiry_window_days)
        assert not credential.is_invalid and status.status != Status.EXPIRED, spec["external_id"]
