"""The demo agency is backed by the sandbox network: its tokens are the
network's own, so renewals work in `make run` as they would for real."""
import re

import pytest
from sqlmodel import select

from devkit.demo import seed_demo
from portal.models import SocialProfile
from portal.networks import adapter_for
from portal.renewal.credentials import token_set
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
