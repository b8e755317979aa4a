"""`flask --app wsgi seed-demo`: the demo agency in every token state, and
idempotent."""
from collections import Counter

import sqlalchemy as sa
from sqlmodel import SQLModel, select

from devkit.demo import DEMO_PASSWORD, REFRESH_LIFETIME, demo_world, uses_refresh_token
from portal.db import utcnow
from portal.models import (
    AuditEvent,
    CanRenew,
    Credential,
    InvalidReason,
    Membership,
    NativeRole,
    Organization,
    ProfileAccess,
    SocialProfile,
    User,
)
from portal.networks import NETWORKS
from portal.status import Status, token_status


def row_counts(session):
    return {
        table.name: session.exec(select(sa.func.count()).select_from(table)).one()
        for table in SQLModel.metadata.sorted_tables
    }


def seed(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def current_credentials(session):
    """(profile, current credential) pairs."""
    return session.exec(
        select(SocialProfile, Credential)
        .join(Credential, Credential.profile_id == SocialProfile.id)
        .where(Credential.superseded_at.is_(None))
    ).all()


def test_demo_world_is_data():
    world = demo_world()
    assert len(world) >= 30
    assert len({(spec["network"], spec["external_id"]) for spec in world}) == len(world)
    assert {spec["network"] for spec in world} == set(NETWORKS)
    world[0]["name"] = "changed"
    assert demo_world()[0]["name"] != "changed"


def test_seed_creates_every_network_and_every_status(runner, session):
    output = seed(runner)
    assert "owner@demo.test" in output and DEMO_PASSWORD in output

    organization = session.exec(select(Organization).where(Organization.name == "Northwind Agency")).one()
    credentials = current_credentials(session)
    assert len(credentials) >= 30
    assert {profile.network for profile, _ in credentials} == set(NETWORKS)

    now = utcnow()
    statuses = {
        profile.external_id: token_status(credential, now, organization.expiry_window_days)
        for profile, credential in credentials
    }
    assert {s.status for s in statuses.values()} == set(Status)
    expired_reasons = {s.reason for s in statuses.values() if s.status == Status.EXPIRED}
    assert expired_reasons == set(InvalidReason)
    marked_invalid = {c.invalid_reason for _, c in credentials if c.is_invalid}
    assert marked_invalid == set(InvalidReason)
    assert {s.days_left for s in statuses.values() if s.status == Status.EXPIRING} == {1, 3, 6}
    invalid = {profile.external_id for profile, c in credentials if c.is_invalid}
    assert any(s.status == Status.EXPIRED and s.reason == InvalidReason.EXPIRED
               for external_id, s in statuses.items() if external_id not in invalid)

    brand_counts = Counter(len(spec["brands"]) for spec in demo_world())
    assert brand_counts[1] and (brand_counts[2] or brand_counts[3])


def test_refresh_tokens_where_the_network_uses_them(runner, session, app):
    from portal.crypto import unseal

    seed(runner)
    specs = {spec["external_id"]: spec for spec in demo_world()}
    with app.app_context():
        for profile, credential in current_credentials(session):
            spec = specs[profile.external_id]
            # Issued by the sandbox network, which the tests' app runs.
            assert len(unseal(credential.sealed_access_token)) >= 20
            if uses_refresh_token(spec):
                assert len(unseal(credential.sealed_refresh_token)) >= 20
                if REFRESH_LIFETIME[profile.network] is not None:
                    assert credential.refresh_expires_at is not None
                if credential.refresh_expires_at and credential.expires_at:
                    assert credential.expires_at <= credential.refresh_expires_at
            else:
                assert credential.sealed_refresh_token is None
                assert credential.refresh_expires_at is None
            if spec.get("token_type") == "system_user":
                # A Business Manager system user's token: no end, no person's data-access window.
                assert (credential.token_type, credential.expires_at, credential.data_access_expires_at) == (
                    "system_user", None, None)
            elif profile.network in ("facebook", "instagram_business"):
                assert credential.data_access_expires_at is not None
    networks_with_refresh = {p.network for p, c in current_credentials(session) if c.can_refresh_silently}
    assert networks_with_refresh == set(REFRESH_LIFETIME)


def test_people_roles_history_and_audit(runner, session):
    seed(runner)
    people = {user.email: user for user in session.exec(select(User)).all()}
    assert {"owner@demo.test", "manager@demo.test", "member@demo.test"} <= set(people)
    emails = {user.id: email for email, user in people.items()}
    roles = {emails[m.user_id]: m for m in session.exec(select(Membership)).all()}
    assert roles["owner@demo.test"].role == "owner"
    assert roles["manager@demo.test"].role == "manager"
    assert roles["member@demo.test"].role == "member" and roles["member@demo.test"].can_manage_profiles

    member_levels = Counter(a.level for a in session.exec(
        select(ProfileAccess).where(ProfileAccess.user_id == people["member@demo.test"].id)).all())
    assert member_levels["admin"] >= 3 and member_levels["viewer"] >= 2

    native = session.exec(select(NativeRole)).all()
    assert {row.can_renew for row in native} == set(CanRenew)
    assert {row.user_id for row in native} == {people[e].id for e in ("owner@demo.test", "manager@demo.test",
                                                                      "member@demo.test")}

    superseded = session.exec(select(Credential).where(Credential.superseded_at.is_not(None))).all()
    assert superseded and all(c.superseded_at <= utcnow() for c in superseded)
    actions = {event.action for event in session.exec(select(AuditEvent)).all()}
    assert {"profile.connected", "token.renewed", "token.failed"} <= actions


def test_seeding_twice_changes_nothing(runner, session):
    seed(runner)
    first = row_counts(session)
    hashes = {c.id: c.sealed_access_token for c in session.exec(select(Credential)).all()}
    output = seed(runner)
    assert "nothing changed" in output
    session.expire_all()
    assert row_counts(session) == first
    assert {c.id: c.sealed_access_token for c in session.exec(select(Credential)).all()} == hashes


def test_owner_signs_in_with_the_demo_password(runner, auth, client):
    seed(runner)
    response = auth.login("owner@demo.test", DEMO_PASSWORD)
    assert response.status_code == 303
    assert "Northwind Agency" in client.get("/").get_data(as_text=True)
