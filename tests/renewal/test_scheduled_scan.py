"""One scan end to end: the scheduler's entries, an RQ worker on the real
Redis, the sandbox network over HTTP, the notice, and the email an SMTP
server on loopback receives."""
import re
from datetime import timedelta

import pytest
from rq import cron
from sqlmodel import select

from portal.db import utcnow
from portal.models import InvalidReason, Notification
from tests.conftest import run_jobs
from tests.renewal.conftest import OWNER
from tests.renewal.test_silent import connected

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def test_a_token_the_network_ended_is_emailed_by_the_next_scheduled_scan(smtp_server, live, session, app,
                                                                           cron_scheduler, monkeypatch):
    profile, credential = connected(live, session, "facebook", "1001")  # a Page: no expiry, health-checked
    credential.last_checked_at = utcnow() - timedelta(days=2)
    session.add(credential)
    session.commit()
    live.admin("tokens/password_changed", {"token": live.cipher().unseal(credential.sealed_access_token)})

    # The scheduler's first tick enqueues every periodic job; the worker runs
    # them: the scan finds nothing due yet, the health check asks the network.
    started = cron_scheduler.enqueue_jobs()
    assert sorted(job.func_name for job in started) == [
        "jobs.housekeeping.purge_expired_links", "jobs.renewal.check_health",
        "jobs.renewal.warn_before_graph_version_ends", "jobs.scan.scan"]
    finished, failed = run_jobs(app)
    assert (finished, failed) == (5, 0)  # the four, and the health check of the one profile
    flagged = live.current(profile.id)
    assert flagged.is_invalid and flagged.invalid_reason == InvalidReason.PASSWORD_CHANGED
    assert smtp_server == []

    # One scan interval later only the scan is due: it tells the Owner, by email.
    later = cron.now() + timedelta(seconds=app.config["SCAN_INTERVAL_SECONDS"])
    monkeypatch.setattr(cron, "now", lambda: later)
    assert [job.func_name for job in cron_scheduler.enqueue_jobs()] == ["jobs.scan.scan"]
    assert run_jobs(app) == (2, 0)  # the scan, and the delivery of its email

    session.rollback()
    [notice] = session.exec(select(Notification)).all()
    assert (notice.profile_id, notice.kind, notice.credential_id) == (profile.id, "invalid", flagged.id)
    [message] = smtp_server
    assert message["To"] == OWNER
    assert "Northwind Café" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert re.search(rf"{re.escape(live.base_url)}/renew/link/[\w-]+", body), body
