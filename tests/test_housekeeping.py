"""The hourly purge of links nobody can use any more."""
from datetime import timedelta

import pytest
from sqlmodel import select

from jobs.housekeeping import purge_expired_links
from portal.db import utcnow
from portal.models import Invitation, PasswordReset, RenewalLink, Signup
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
    session.commit()

    with app.app_context():
        purged = purge_expired_links()

    assert purged == {"password_reset": 1, "invitation": 1, "signup": 1, "renewal_link": 1}
    session.expire_all()
    for model in (PasswordReset, Invitation, Signup, RenewalLink):
        kept = sorted(row.secret_hash.split("-")[1] for row in session.exec(select(model)).all())
        assert kept == ["live", "recent"]
    with app.app_context():
        assert purge_expired_links() == {"password_reset": 0, "invitation": 0, "signup": 0, "renewal_link": 0}


@pytest.mark.parametrize("job_name, interval", [
    ("purge_expired_links", 3600),
    ("warn_before_graph_version_ends", 86400),  # Owners hear 30 days before the Graph API version ends
])
def test_cron_config_registers_the_periodic_jobs(app, monkeypatch, job_name, interval):
    import importlib
    import sys

    from rq import cron

    from jobs import housekeeping, renewal

    monkeypatch.setattr("jobs.worker_app", lambda: app)
    monkeypatch.setattr(cron, "_job_data_registry", [])
    sys.modules.pop("jobs.cron", None)
    importlib.import_module("jobs.cron")
    sys.modules.pop("jobs.cron", None)
    func = getattr(housekeeping, job_name, None) or getattr(renewal, job_name)
    [job] = [entry for entry in cron._job_data_registry if entry["func"] is func]
    assert job["interval"] == interval
    assert job["queue_name"] == app.config["QUEUE_NAME"]
