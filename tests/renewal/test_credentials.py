"""Storing what a network gave: new grants, refreshes, and what is kept."""
from datetime import timedelta

from sqlmodel import select

from portal.crypto import unseal
from portal.db import utcnow
from portal.models import Credential
from portal.networks.base import TokenSet
from portal.renewal.credentials import apply_refresh, current_credential, store_grant, token_set
from tests import factories


def test_a_new_grant_supersedes_and_keeps_history(session, app_context):
    org = factories.organization(session)
    profile = factories.profile(session, org, network="linkedin_personal")
    first = factories.credential(session, profile, access_token="old-access")
    fresh = store_grant(session, profile, TokenSet("new-access", expires_at=utcnow() + timedelta(days=60)))
    session.commit()
    rows = session.exec(select(Credential).where(Credential.profile_id == profile.id).order_by(Credential.id)).all()
    assert [r.id for r in rows] == [first.id, fresh.id]
    assert rows[0].superseded_at is not None and rows[1].superseded_at is None
    assert current_credential(session, profile.id).id == fresh.id
    assert unseal(fresh.sealed_access_token) == "new-access"


def test_a_refresh_token_the_network_did_not_resend_is_kept(session, app_context):
    # Google omits the refresh token on a consent without prompt=consent;
    # dropping the one we hold would make every later renewal interactive.
    org = factories.organization(session)
    profile = factories.profile(session, org, network="youtube")
    end = utcnow() + timedelta(days=100)
    factories.credential(session, profile, access_token="a1", refresh_token="r1", refresh_expires_at=end)
    fresh = store_grant(session, profile, TokenSet("a2", expires_at=utcnow() + timedelta(hours=1)))
    session.commit()
    assert unseal(fresh.sealed_refresh_token) == "r1"
    assert fresh.refresh_expires_at == end


def test_a_dead_credentials_refresh_token_is_not_carried_over(session, app_context):
    org = factories.organization(session)
    profile = factories.profile(session, org, network="youtube")
    factories.credential(session, profile, refresh_token="revoked", status="invalid", invalid_reason="permission_revoked")
    fresh = store_grant(session, profile, TokenSet("a2"))
    session.commit()
    assert fresh.sealed_refresh_token is None


def test_a_refresh_updates_in_place_and_bumps_the_version(session, app_context):
    org = factories.organization(session)
    profile = factories.profile(session, org, network="tiktok")
    credential = factories.credential(session, profile, access_token="a1", refresh_token="r1")
    apply_refresh(session, credential, TokenSet("a2", refresh_token="r2", expires_at=utcnow() + timedelta(hours=24)))
    session.commit()
    session.refresh(credential)
    assert credential.version == 2
    assert (token_set(credential).access_token, token_set(credential).refresh_token) == ("a2", "r2")
