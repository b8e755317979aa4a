"""The scan: thresholds, recipients, preferences, and writing each notice once."""
import threading
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlmodel import select

from jobs import scan as scan_module
from jobs.scan import scan
from portal.db import utcnow
from portal.models import (
    Credential,
    Delivery,
    Notification,
    NotificationPreference,
    Organization,
)
from portal.notifications import rules
from portal.queue import LAST_SCAN, redis, redis_key
from tests import factories

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


@pytest.fixture
def agency(session):
    """An agency with an Owner and a Facebook page."""
    made = factories.agency(session, name="Northwind", profiles={"page": {"name": "Northwind Café"}})
    return made.org, made.owner, made.profiles["page"]


def notices(session):
    session.commit()  # a new snapshot, and fresh rows: the scan wrote from its own connection
    session.expire_all()
    return session.exec(select(Notification).order_by(Notification.id)).all()


def deliveries(session):
    session.commit()  # a new snapshot, and fresh rows: the scan wrote from its own connection
    session.expire_all()
    return session.exec(select(Delivery).order_by(Delivery.id)).all()


def queued_jobs(app):
    return Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"])).jobs


@pytest.mark.parametrize("expires_in, kind, threshold", [
    (7 * DAY - MINUTE, "expiring", 7),
    (3 * DAY - MINUTE, "expiring", 3),
    (1 * DAY - MINUTE, "expiring", 1),
    (-MINUTE, "expired", 0),
])
def test_each_default_threshold_is_told_once(session, app_context, app, agency, expires_in, kind, threshold):
    org, owner, page = agency
    credential = factories.credential(session, page, expires_in=expires_in)

    report = scan()

    [notice] = notices(session)
    assert (notice.kind, notice.threshold_days, notice.user_id) == (kind, threshold, owner.id)
    assert notice.credential_id == credential.id and notice.expires_at == credential.expires_at
    [delivery] = deliveries(session)
    assert (delivery.channel, delivery.recipient, delivery.status) == ("email", owner.email, "pending")
    assert delivery.notification_id == notice.id
    assert report.deliveries == [delivery.id]
    [job] = queued_jobs(app)
    assert job.func_name == "jobs.deliver.deliver" and job.args == ([delivery.id],)


def test_nothing_is_due_before_the_first_threshold_or_without_expiry(session, app_context, app, agency):
    _, _, page = agency
    factories.credential(session, page, expires_in=7 * DAY + MINUTE)
    other = factories.profile(session, agency[0], network="x")
    factories.credential(session, other, expires_in=None)

    scan()

    assert notices(session) == [] and deliveries(session) == []


def test_a_newly_invalid_credential_is_told(session, app_context, app, agency):
    _, owner, page = agency
    factories.credential(session, page, expires_in=40 * DAY, status="invalid", invalid_reason="password_changed",
                         invalidated_at=utcnow() - MINUTE)

    scan()

    [notice] = notices(session)
    assert (notice.kind, notice.threshold_days) == ("invalid", None)
    assert len(deliveries(session)) == 1


def test_an_invalidation_older_than_the_last_scan_is_not_told_again(session, app_context, app, agency):
    _, _, page = agency
    factories.credential(session, page, expires_in=40 * DAY, status="invalid",
                         invalidated_at=utcnow() - 2 * DAY)
    redis().set(redis_key(LAST_SCAN), (utcnow() - DAY).isoformat())

    scan()

    assert notices(session) == []


def test_an_organization_chooses_its_own_thresholds(session, app_context, app, agency):
    org, _, page = agency
    org.notification_thresholds = "10,5"
    session.add(org)
    session.commit()
    credential = factories.credential(session, page, expires_in=12 * DAY)
    now = utcnow()

    scan(now=now)
    assert notices(session) == []
    scan(now=now + 2 * DAY + MINUTE)  # 10 days before
    scan(now=now + 7 * DAY + MINUTE)  # 5 days before
    scan(now=now + 9 * DAY)  # 3 days before: no threshold of theirs
    scan(now=now + 12 * DAY + MINUTE)  # expired: they chose no notice at expiry

    assert [(n.kind, n.threshold_days) for n in notices(session)] == [("expiring", 10), ("expiring", 5)]
    assert all(n.expires_at == credential.expires_at for n in notices(session))
    assert len(deliveries(session)) == 2


def test_a_credential_first_seen_late_gets_only_the_most_urgent_notice(session, app_context, app, agency):
    _, _, page = agency
    factories.credential(session, page, expires_in=2 * DAY)

    scan()

    assert [n.threshold_days for n in notices(session)] == [3]


def test_the_silent_renewal_end_is_the_effective_expiry(session, app_context, app, agency):
    _, _, page = agency
    # Refreshable: the access token's own end does not matter, the refresh token's does.
    factories.credential(session, page, expires_in=timedelta(hours=1),
                         refresh_token="refresh", refresh_expires_at=utcnow() + 60 * DAY)
    other = factories.profile(session, agency[0], network="x")
    factories.credential(session, other, expires_in=60 * DAY, refresh_token="refresh",
                         refresh_expires_at=utcnow() + 3 * DAY - MINUTE)

    scan()

    [notice] = notices(session)
    assert notice.profile_id == other.id and notice.threshold_days == 3


def test_running_twice_tells_each_notice_once(session, app_context, app, agency):
    _, _, page = agency
    factories.credential(session, page, expires_in=DAY - MINUTE)

    first = scan()
    second = scan()

    assert len(first.deliveries) == 1 and second.deliveries == []
    assert second.notifications == 0
    assert len(notices(session)) == 1 and len(deliveries(session)) == 1
    assert len(queued_jobs(app)) == 1


def test_two_scans_at_once_tell_each_notice_once(session, app_context, app, agency):
    org, _, page = agency
    factories.member(session, org, role="manager")
    for n in range(10):
        profile = factories.profile(session, org, network="linkedin_company")
        factories.credential(session, profile, expires_in=(n % 4) * DAY + timedelta(hours=1))
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
    all_notices, all_deliveries = notices(session), deliveries(session)
    assert len(all_notices) == 10 * 2 and len(all_deliveries) == 10 * 2
    assert sorted(i for r in reports for i in r.deliveries) == sorted(d.id for d in all_deliveries)
    assert sum(r.notifications for r in reports) == 20
    enqueued = [i for job in queued_jobs(app) for i in job.args[0]]
    assert sorted(enqueued) == sorted(d.id for d in all_deliveries)


def test_who_is_told(session, app_context, app, agency):
    org, owner, page = agency
    manager = factories.member(session, org, role="manager")
    admin = factories.member(session, org, can_manage_profiles=True)
    factories.access(session, admin, page, "admin")
    editor = factories.member(session, org, can_manage_profiles=True)
    factories.access(session, editor, page, "editor")
    no_rights = factories.member(session, org)
    factories.access(session, no_rights, page, "admin")
    gone = factories.member(session, org, role="manager", active=False)
    outsider = factories.member(session, factories.organization(session), role="owner")
    factories.credential(session, page, expires_in=DAY - MINUTE)

    scan()

    told = {n.user_id for n in notices(session)}
    assert told == {owner.id, manager.id, admin.id}
    assert not told & {editor.id, no_rights.id, gone.id, outsider.id}
    assert {d.recipient for d in deliveries(session)} == {owner.email, manager.email, admin.email}


def test_preferences_choose_the_channels_in_app_is_always_on(session, app_context, app, agency):
    org, owner, page = agency
    second = factories.profile(session, org, network="facebook")
    for profile in (page, second):
        factories.credential(session, profile, expires_in=DAY - MINUTE)
    # Email off for every profile, but on for the second one.
    session.add(NotificationPreference(user_id=owner.id, organization_id=org.id, profile_id=None, email=False))
    session.add(NotificationPreference(user_id=owner.id, organization_id=org.id, profile_id=second.id, email=True))
    session.commit()

    scan()

    assert {n.profile_id for n in notices(session)} == {page.id, second.id}
    [delivery] = deliveries(session)
    assert delivery.notification_id == next(n.id for n in notices(session) if n.profile_id == second.id)


def test_a_renewed_credential_is_not_told_of_its_old_expiry(session, app_context, app, agency):
    _, _, page = agency
    old = factories.credential(session, page, expires_in=3 * DAY - MINUTE)
    now = utcnow()
    scan(now=now)
    session.commit()  # leave the snapshot read before the scan wrote
    # Renewed by consent: a new current credential, the old one kept as history.
    old.superseded_at = utcnow()
    session.add(old)
    session.commit()
    new = factories.credential(session, page, expires_in=60 * DAY)

    scan(now=now + 2 * DAY)  # the old one would be at its 1-day threshold
    scan(now=now + 3 * DAY)  # and past its expiry

    assert [(n.credential_id, n.threshold_days) for n in notices(session)] == [(old.id, 3)]
    # Refreshed in place to a later end: told again only when that end nears.
    session.commit()
    new.expires_at = now + 6 * DAY
    session.add(new)
    session.commit()
    scan(now=now + 3 * DAY)
    assert [(n.credential_id, n.threshold_days) for n in notices(session)][1:] == [(new.id, 3)]


def test_a_credential_renewed_in_place_is_told_again_at_a_threshold_it_reached_before(
        session, app_context, app, agency):
    """A refresh keeps the row and moves its end: the 3-day notice of the new
    end is a new notice, not the one told before (its key carries the expiry)."""
    _, owner, page = agency
    now = utcnow()
    first_end = now + 3 * DAY - MINUTE
    credential = factories.credential(session, page, expires_at=first_end)
    scan(now=now)
    session.commit()
    second_end = first_end + 60 * DAY
    credential.expires_at = second_end  # refreshed in place: same row, new expiry
    session.add(credential)
    session.commit()

    scan(now=now + 60 * DAY)

    assert [(n.credential_id, n.kind, n.threshold_days, n.expires_at, n.user_id) for n in notices(session)] == [
        (credential.id, "expiring", 3, first_end, owner.id),
        (credential.id, "expiring", 3, second_end, owner.id),
    ]
    told = notices(session)
    assert [(d.notification_id, d.channel) for d in deliveries(session)] == [(told[0].id, "email"), (told[1].id, "email")]


def test_an_invalidation_committed_after_the_last_scan_read_is_told(session, app_context, app, agency):
    """A transaction that set `invalidated_at` before the last scan may commit
    after that scan read: the next scan looks back an overlap before it."""
    org, _, page = agency
    late = factories.profile(session, org, name="Committed late")
    earlier = factories.profile(session, org, name="Told by an earlier scan")
    last_scan = utcnow() - 10 * MINUTE
    redis().set(redis_key(LAST_SCAN), last_scan.isoformat())
    factories.credential(session, late, status="invalid", invalid_reason="revoked",
                         invalidated_at=last_scan - 30 * MINUTE)
    factories.credential(session, earlier, status="invalid", invalid_reason="revoked",
                         invalidated_at=last_scan - 2 * 60 * MINUTE)

    scan()

    assert [(n.profile_id, n.kind) for n in notices(session)] == [(late.id, "invalid")]


def test_the_scan_renews_silently_first_and_records_its_time(session, app_context, app, agency, monkeypatch):
    calls = []
    monkeypatch.setattr(scan_module, "renew_due", lambda now: calls.append(now) or 2)
    now = utcnow()

    report = scan(now=now)

    assert calls == [now] and report.renewals == 2
    stored = redis().get(redis_key(LAST_SCAN)).decode()
    assert stored == now.isoformat()
    try:
        assert app.test_client().get("/healthz").get_json()["last_scan"] == now.isoformat()
    finally:
        health_engine = app.extensions.get("keepalive.health_engine")
        if health_engine is not None:
            health_engine.dispose()


def test_the_scan_reads_only_the_credentials_that_are_due(session, app_context, app, agency, monkeypatch):
    org, _, page = agency
    factories.credential(session, page, expires_in=DAY - MINUTE)
    for _ in range(30):
        factories.credential(session, factories.profile(session, org), expires_in=90 * DAY)
    factories.credential(session, factories.profile(session, org), expires_in=-30 * DAY)  # long dead, told long ago
    seen = []
    original = rules.due_notice
    monkeypatch.setattr(rules, "due_notice", lambda credential, *a, **k: seen.append(credential.id) or original(credential, *a, **k))

    scan()

    assert len(seen) == 1


def test_a_pending_delivery_whose_job_was_lost_is_enqueued_again(session, app_context, app, agency):
    _, _, page = agency
    factories.credential(session, page, expires_in=DAY - MINUTE)
    now = utcnow()
    scan(now=now)
    Queue(app.config["QUEUE_NAME"], connection=Redis.from_url(app.config["REDIS_URL"])).empty()

    report = scan(now=now + timedelta(minutes=11))

    [delivery] = deliveries(session)
    assert report.requeued == [delivery.id]
    assert [job.args for job in queued_jobs(app)] == [([delivery.id],)]


def test_scan_command(runner, session, app_context, agency):
    _, _, page = agency
    factories.credential(session, page, expires_in=DAY - MINUTE)

    result = runner.invoke(args=["scan"])

    assert result.exit_code == 0, result.output
    assert "1 new notice(s)" in result.output


def test_thresholds_rule():
    now = utcnow()
    assert rules.crossed_threshold(now + 8 * DAY, now, [7, 3, 1, 0]) is None
    assert rules.crossed_threshold(now + 7 * DAY, now, [7, 3, 1, 0]) == 7
    assert rules.crossed_threshold(now + 2 * DAY, now, [7, 3, 1, 0]) == 3
    assert rules.crossed_threshold(now, now, [7, 3, 1, 0]) == 0
    assert rules.crossed_threshold(now - DAY, now, [10, 5]) == 5
    assert Organization(name="x", notification_thresholds="5,10").thresholds == [10, 5]


@pytest.mark.parametrize("refresh_token", [None, "user-token"])
def test_the_end_of_data_access_is_told_before_it_comes(session, app_context, agency, refresh_token):
    """A Page token has no end of its own (or a user token beside it that lives
    longer): its notices come before its data access ends."""
    org, owner, page = agency
    data_access_ends = utcnow() + 3 * DAY - MINUTE
    credential = factories.credential(
        session, page, expires_in=None, token_type="page", refresh_token=refresh_token,
        refresh_expires_at=utcnow() + 50 * DAY if refresh_token else None, data_access_expires_at=data_access_ends,
    )

    scan()

    [notice] = notices(session)
    assert (notice.kind, notice.threshold_days, notice.credential_id) == ("expiring", 3, credential.id)
    assert notice.expires_at == data_access_ends


def test_a_notice_tells_the_real_days_left_not_its_threshold():
    now = utcnow()
    assert rules.told_at("expiring", now + 2 * DAY + MINUTE, now) == ("expiring", 2)  # past the 3-day threshold
    assert rules.told_at("expiring", now + 2 * DAY - MINUTE, now) == ("expiring", 1)
    assert rules.told_at("expiring", now + MINUTE, now) == ("expiring", 0)  # expires today
    assert rules.told_at("expiring", now, now) == ("expired", None)  # its end has come since
    assert rules.told_at("expired", now - DAY, now) == ("expired", None)
    assert rules.told_at("invalid", None, now) == ("invalid", None)
    assert rules.told_at("link_renewed", None, now) == ("link_renewed", None)


def test_an_expired_token_that_a_failed_renewal_marks_invalid_is_not_told_twice(session, app_context, app, agency):
    from portal.renewal.credentials import mark_invalid

    _, _, page = agency
    credential = factories.credential(session, page, expires_in=-MINUTE)
    now = utcnow()
    scan(now=now)
    [expired] = notices(session)
    assert expired.kind == "expired" and len(deliveries(session)) == 1
    # Someone presses Renew Token: the network says the token is dead, as the notice did.
    mark_invalid(session, session.get(Credential, credential.id), "expired")
    session.commit()

    scan(now=now + MINUTE)

    assert [n.kind for n in notices(session)] == ["expired"]
    assert len(deliveries(session)) == 1


def test_a_token_refused_before_its_end_is_told_once_however_many_renewals_fail(session, app_context, app, agency):
    from portal.renewal.credentials import mark_invalid

    _, _, page = agency
    credential = factories.credential(session, page, expires_in=3 * DAY - MINUTE)
    now = utcnow()
    scan(now=now)  # "expires in 2 days"
    mark_invalid(session, session.get(Credential, credential.id), "password_changed")
    session.commit()
    scan(now=now + MINUTE)  # dead before its end: that is news
    assert [n.kind for n in notices(session)] == ["expiring", "invalid"]
    # A second failure later (a renewal refused again) tells nobody anything new.
    row = session.get(Credential, credential.id)
    row.invalidated_at = utcnow()
    session.add(row)
    session.commit()
    scan(now=now + 2 * MINUTE)
    assert [n.kind for n in notices(session)] == ["expiring", "invalid"]
    assert len(deliveries(session)) == 2
