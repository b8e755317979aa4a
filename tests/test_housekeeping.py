"""The hourly purge of links nobody can use any more."""
from datetime import timedelta

from sqlmodel import select

from jobs.housekeeping import purge_expired_links
from portal.db import utcnow
from portal.models import ConnectInvitation, Invitation, PasswordReset, RenewalLink, Signup
from tests import factories


def test_purges_links_expired_over_30_days_ago_only(app, session, app_context):
    org = factories.organization(session)
    person = factories.member(session, org)
    profile = factories.profile(session, org)
    now = utcnow()
    ages = {"old": now - timedelta(days=31), "recent": now - timedelta(days=29), "live": now + timedelta(days=1)}
    for label, expires_at in ages.items():
        session.add(PasswordReset(user_id=person.id, secret_hash=f"reset-{label}", expires_at=expires_at))
        session.add(Invitation(organization_id=org.id, email=f"{label}@example.test", secret_hash=f"inv-{label}",
                          expires_at=expires_at))
        session.add(RenewalLink(profile_id=profile.id, recipient="client@example.test", purpose="renew",
                           secret_hash=f"link-{label}", expires_at=expires_at))
        session.add(Signup(agency_name="Agency", name="Sam", email=f"{label}@example.test", password_hash="x",
                           secret_hash=f"signup-{label}", expires_at=expires_at))
        session.add(ConnectInvitation(organization_id=org.id, email=f"{label}@example.test", networks="x",
                                      secret_hash=f"connect-{label}", expires_at=expires_at))
    session.commit()

    with app.app_context():
        purged = purge_expired_links()

    assert purged == {"password_reset": 1, "invitation": 1, "connect_invitation": 1, "signup": 1,
                      "renewal_link": 1}
    session.expire_all()
    for model in (PasswordReset, Invitation, ConnectInvitation, Signup, RenewalLink):
        kept = sorted(row.secret_hash.split("-")[1] for row in session.exec(select(model)).all())
        assert kept == ["live", "recent"]
    with app.app_context():
        assert purge_expired_links() == {"password_reset": 0, "invitation": 0, "connect_invitation": 0, "signup": 0,
                                         "renewal_link": 0}
