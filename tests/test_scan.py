"""The scan: thresholds, recipients, preferences, and writing each notice once."""
import sys
import threading
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlmodel import select

from jobs import scan as scan_module
from jobs.scan import LAST_SCAN_KEY, scan
from portal.db import utcnow
from portal.models import (
    Credential,
    Delivery,
    Notification,
    NotificationPreference,
    Organization,
)
from portal.notifications import rules
from tests import factories

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def forget_last_scan(app):
    yield
    Redis.from_url(app.config["REDIS_URL"]).delete(LAST_SCAN_KEY)


@pytest.fixture
def agency(db):
    """An agency with an Owner and a Facebook page."""
    org = factories.organization(db, name="Northwind")
    owner = factories.member(db, org, role="owner", email="owner@example.test")
    page = factories.profile(db, org, network="facebook", name="Northwind Café")
    return org, owner, page


def notices(db):
    db.commit()  # a new snapshot, and fresh rows: the scan wrote from its own connection
    db.expire_all()
    return db.exec(select(Notification).order_by(Notification.id)).all()


def deliveries(db):
    db.commit()  # a new snapshot, and fresh rows: the scan wrote from its own connection
    db.expire_all()
    return db.exec(select(Delivery).order_by(Delivery.id)).all()


def queued_jobs(app):
    return Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"])).jobs


@pytest.mark.parametrize("expires_in, kind, threshold", [
    (7 * DAY - MINUTE, "expiring", 7),
    (3 * DAY - MINUTE, "expiring", 3),
    (1 * DAY - MINUTE, "expiring", 1),
    (-MINUTE, "expired", 0),
])
def test_each_default_threshold_is_told_once(db, app, agency, expires_in, kind, threshold):
    org, owner, page = agency
    credential = factories.credential(db, page, expires_in=expires_in)

    report = scan()

    [notice] = notices(db)
    assert (notice.kind, notice.threshold_days, notice.user_id) == (kind, threshold, owner.id)
    assert notice.credential_id == credential.id and notice.expires_at == credential.expires_at
    [delivery] = deliveries(db)
    assert (delivery.channel, delivery.recipient, delivery.status) == ("email", owner.email, "pending")
    assert delivery.notification_id == notice.id
    assert report.deliveries == [delivery.id]
    [job] = queued_jobs(app)
    assert job.func_name == "jobs.deliver.deliver" and job.args == ([delivery.id],)


def test_nothing_is_due_before_the_first_threshold_or_without_expiry(db, app, agency):
    _, _, page = agency
    factories.credential(db, page, expires_in=7 * DAY + MINUTE)
    other = factories.profile(db, agency[0], network="x")
    factories.credential(db, other, expires_in=None)

    scan()

    assert notices(db) == [] and deliveries(db) == []


def test_a_newly_invalid_credential_is_told(db, app, agency):
    _, owner, page = agency
    factories.credential(db, page, expires_in=40 * DAY, status="invalid", invalid_reason="password_changed",
                         invalidated_at=utcnow() - MINUTE)

    scan()

    [notice] = notices(db)
    assert (notice.kind, notice.threshold_days) == ("invalid", None)
    assert len(deliveries(db)) == 1


def test_an_invalidation_older_than_the_last_scan_is_not_told_again(db, app, agency):
    _, _, page = agency
    factories.credential(db, page, expires_in=40 * DAY, status="invalid",
                         invalidated_at=utcnow() - 2 * DAY)
    Redis.from_url(app.config["REDIS_URL"]).set(LAST_SCAN_KEY, (utcnow() - DAY).isoformat())

    scan()

    assert notices(db) == []


def test_an_organization_chooses_its_own_thresholds(db, app, agency):
    org, _, page = agency
    org.notification_thresholds = "10,5"
    db.add(org)
    db.commit()
    credential = factories.credential(db, page, expires_in=12 * DAY)
    now = utcnow()

    scan(now=now)
    assert notices(db) == []
    scan(now=now + 2 * DAY + MINUTE)  # 10 days before
    scan(now=now + 7 * DAY + MINUTE)  # 5 days before
    scan(now=now + 9 * DAY)  # 3 days before: no threshold of theirs
    scan(now=now + 12 * DAY + MINUTE)  # expired: they chose no notice at expiry

    assert [(n.kind, n.threshold_days) for n in notices(db)] == [("expiring", 10), ("expiring", 5)]
    assert all(n.expires_at == credential.expires_at for n in notices(db))
    assert len(deliveries(db)) == 2


def test_a_credential_first_seen_late_gets_only_the_most_urgent_notice(db, app, agency):
    _, _, page = agency
    factories.credential(db, page, expires_in=2 * DAY)

    scan()

    assert [n.threshold_days for n in notices(db)] == [3]


def test_the_silent_renewal_end_is_the_effective_expiry(db, app, agency):
    _, _, page = agency
    # Refreshable: the access token's own end does not matter, the refresh token's does.
    factories.credential(db, page, expires_in=timedelta(hours=1),
                         refresh_token="refresh", refresh_expires_at=utcnow() + 60 * DAY)
    other = factories.profile(db, agency[0], network="x")
    factories.credential(db, other, expires_in=60 * DAY, refresh_token="refresh",
                         refresh_expires_at=utcnow() + 3 * DAY - MINUTE)

    scan()

    [notice] = notices(db)
    assert notice.profile_id == other.id and notice.threshold_days == 3


def test_running_twice_tells_each_notice_once(db, app, agency):
    _, _, page = agency
    factories.credential(db, page, expires_in=DAY - MINUTE)

    first = scan()
    second = scan()

    assert len(first.deliveries) == 1 and second.deliveries == []
    assert second.notifications == 0
    assert len(notices(db)) == 1 and len(deliveries(db)) == 1
    assert len(queued_jobs(app)) == 1


def test_two_scans_at_once_tell_each_notice_once(db, app, agency):
    org, _, page = agency
    factories.member(db, org, role="manager")
    for n in range(10):
        profile = factories.profile(db, org, network="linkedin_company")
        factories.credential(db, profile, expires_in=(n % 4) * DAY + timedelta(hours=1))
    start = threading.Barrier(3)
    reports, errors = [], []

    def run():
        try:
            with app.app_context():
                start.wait()
                reports.append(scan())
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    all_notices, all_deliveries = notices(db), deliveries(db)
    assert len(all_notices) == 10 * 2 and len(all_deliveries) == 10 * 2
    assert sorted(i for r in reports for i in r.deliveries) == sorted(d.id for d in all_deliveries)
    assert sum(r.notifications for r in reports) == 20
    enqueued = [i for job in queued_jobs(app) for i in job.args[0]]
    assert sorted(enqueued) == sorted(d.id for d in all_deliveries)


def test_who_is_told(db, app, agency):
    org, owner, page = agency
    manager = factories.member(db, org, role="manager")
    admin = factories.member(db, org, can_manage_profiles=True)
    factories.access(db, admin, page, "admin")
    editor = factories.member(db, org, can_manage_profiles=True)
    factories.access(db, editor, page, "editor")
    no_rights = factories.member(db, org)
    factories.access(db, no_rights, page, "admin")
    gone = factories.member(db, org, role="manager", active=False)
    outsider = factories.member(db, factories.organization(db), role="owner")
    factories.credential(db, page, expires_in=DAY - MINUTE)

    scan()

    told = {n.user_id for n in notices(db)}
    assert told == {owner.id, manager.id, admin.id}
    assert not told & {editor.id, no_rights.id, gone.id, outsider.id}
    assert {d.recipient for d in deliveries(db)} == {owner.email, manager.email, admin.email}


def test_preferences_choose_the_channels_in_app_is_always_on(db, app, agency):
    org, owner, page = agency
    second = factories.profile(db, org, network="facebook")
    for profile in (page, second):
        factories.credential(db, profile, expires_in=DAY - MINUTE)
    # Email off for every profile, but on for the second one.
    db.add(NotificationPreference(user_id=owner.id, organization_id=org.id, profile_id=None, email=False))
    db.add(NotificationPreference(user_id=owner.id, organization_id=org.id, profile_id=second.id, email=True))
    db.commit()

    scan()

    assert {n.profile_id for n in notices(db)} == {page.id, second.id}
    [delivery] = deliveries(db)
    assert delivery.notification_id == next(n.id for n in notices(db) if n.profile_id == second.id)


def test_a_renewed_credential_is_not_told_of_its_old_expiry(db, app, agency):
    _, _, page = agency
    old = factories.credential(db, page, expires_in=3 * DAY - MINUTE)
    now = utcnow()
    scan(now=now)
    db.commit()  # leave the snapshot read before the scan wrote
    # Renewed by consent: a new current credential, the old one kept as history.
    old.superseded_at = utcnow()
    db.add(old)
    db.commit()
    new = factories.credential(db, page, expires_in=60 * DAY)

    scan(now=now + 2 * DAY)  # the old one would be at its 1-day threshold
    scan(now=now + 3 * DAY)  # and past its expiry

    assert [(n.credential_id, n.threshold_days) for n in notices(db)] == [(old.id, 3)]
    # Refreshed in place to a later end: told again only when that end nears.
    db.commit()
    new.expires_at = now + 6 * DAY
    db.add(new)
    db.commit()
    scan(now=now + 3 * DAY)
    assert [(n.credential_id, n.threshold_days) for n in notices(db)][1:] == [(new.id, 3)]


def test_the_scan_renews_silently_first_and_records_its_time(db, app, agency, monkeypatch):
    calls = []
    monkeypatch.setattr(scan_module, "renew_due", lambda now: calls.append(now) or 2)
    now = utcnow()

    report = scan(now=now)

    assert calls == [now] and report.renewals == 2
    stored = Redis.from_url(app.config["REDIS_URL"]).get(LAST_SCAN_KEY).decode()
    assert stored == now.isoformat()
    try:
        assert app.test_client().get("/healthz").get_json()["last_scan"] == now.isoformat()
    finally:
        health_engine = app.extensions.get("keepalive.health_engine")
        if health_engine is not None:
            health_engine.dispose()


def test_the_scan_reads_only_the_credentials_that_are_due(db, app, agency, monkeypatch):
    org, _, page = agency
    factories.credential(db, page, expires_in=DAY - MINUTE)
    for _ in range(30):
        factories.credential(db, factories.profile(db, org), expires_in=90 * DAY)
    factories.credential(db, factories.profile(db, org), expires_in=-30 * DAY)  # long dead, told long ago
    seen = []
    original = rules.due_notice
    monkeypatch.setattr(rules, "due_notice", lambda credential, *a, **k: seen.append(credential.id) or original(credential, *a, **k))

    scan()

    assert len(seen) == 1


def test_a_pending_delivery_whose_job_was_lost_is_enqueued_again(db, app, agency):
    _, _, page = agency
    factories.credential(db, page, expires_in=DAY - MINUTE)
    now = utcnow()
    scan(now=now)
    Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"])).empty()

    report = scan(now=now + timedelta(minutes=11))

    [delivery] = deliveries(db)
    assert report.requeued == [delivery.id]
    assert [job.args for job in queued_jobs(app)] == [([delivery.id],)]


def test_scan_command(runner, db, agency):
    _, _, page = agency
    factories.credential(db, page, expires_in=DAY - MINUTE)

    result = runner.invoke(args=["scan"])

    assert result.exit_code == 0, result.output
    assert "1 new notice(s)" in result.output


def test_cron_registers_the_scan_every_scan_interval(app, monkeypatch):
    import importlib

    import jobs
    from rq import cron

    monkeypatch.setenv("SCAN_INTERVAL_SECONDS", "120")
    monkeypatch.setattr(jobs, "_app", None)
    monkeypatch.setattr(cron, "_job_data_registry", [])
    monkeypatch.delitem(sys.modules, "jobs.cron", raising=False)

    importlib.import_module("jobs.cron")

    [entry] = [e for e in cron._job_data_registry if e["func"] is scan_module.scan]
    assert entry["interval"] == 120


def test_thresholds_rule():
    now = utcnow()
    assert rules.crossed_threshold(now + 8 * DAY, now, [7, 3, 1, 0]) is None
    assert rules.crossed_threshold(now + 7 * DAY, now, [7, 3, 1, 0]) == 7
    assert rules.crossed_threshold(now + 2 * DAY, now, [7, 3, 1, 0]) == 3
    assert rules.crossed_threshold(now, now, [7, 3, 1, 0]) == 0
    assert rules.crossed_threshold(now - DAY, now, [10, 5]) == 5
    assert Organization(name="x", notification_thresholds="5,10").thresholds == [10, 5]
    assert isinstance(Credential, type)


@pytest.mark.parametrize("refresh_token", [None, "user-token"])
def test_the_end_of_data_access_is_told_before_it_comes(db, app, agency, refresh_token):
    """A Page token has no end of its own (or a user token beside it that lives
    longer): its notices come before its data access ends."""
    org, owner, page = agency
    data_access_ends = utcnow() + 3 * DAY - MINUTE
    credential = factories.credential(db, page, expires_in=None, token_type="page", refresh_token=refresh_token,
                                      refresh_expires_at=utcnow() + 50 * DAY if refresh_token else None,
                                      data_access_expires_at=data_access_ends)

    scan()

    [notice] = notices(db)
    assert (notice.kind, notice.threshold_days, notice.credential_id) == ("expiring", 3, credential.id)
    assert notice.expires_at == data_access_ends
