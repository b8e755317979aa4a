"""The scan reads only what may be due: the SQL ranges of `may_be_due` hold
every credential the rule finds due, and leave out the far-off and the dead;
each range is read from an index that holds nothing else."""
from datetime import timedelta
from itertools import product
from uuid import uuid4

import pytest
from sqlalchemy import event, insert
from sqlmodel import select

from jobs.renewal import may_be_due, renew_due
from jobs.scan import due_credentials
from portal.crypto import seal
from portal.db import utcnow
from portal.models import Credential, SocialProfile
from portal.renewal.rules import RefreshPolicy, refresh_due
from tests import factories

HOURS = [None, -24 * 400, -24 * 40, -24 * 5, -2, 1, 24 * 3, 24 * 9, 24 * 11, 24 * 60, 24 * 400]


def test_every_due_credential_is_in_the_ranges(session, app_context):
    now = utcnow()
    cases = list(product(HOURS, HOURS, [None, -24 * 45, -24 * 5, -2], [False, True]))
    factories.agency(session, people={}, profiles={n: {
        "network": "tiktok", "external_id": f"c{n}",
        "credential": {
            "refresh_token": "r" if has_refresh else None,
            "expires_at": now + timedelta(hours=access) if access is not None else None,
            "refresh_expires_at": now + timedelta(hours=refresh_end) if refresh_end is not None else None,
            "last_refreshed_at": now + timedelta(hours=refreshed) if refreshed is not None else None,
            "created_at": now - timedelta(days=50),
        },
    } for n, (access, refresh_end, refreshed, has_refresh) in enumerate(cases)})
    selected = set(session.exec(may_be_due(now)).scalars().all())
    everything = session.exec(select(Credential)).all()
    for policy in (RefreshPolicy(), RefreshPolicy(extends_access_token=True, min_token_age=timedelta(hours=24))):
        due = {c.id for c in everything if refresh_due(c, policy, now)}
        assert due and due <= selected, sorted(due - selected)
    # The dead and the far-off are left out.
    assert len(selected) < len(everything) / 2


SELF_EXTENDING = RefreshPolicy(extends_access_token=True)
DAYS = timedelta(days=1)


@pytest.mark.parametrize("case", [
    # An access token that extends itself, ending soon.
    {"policy": SELF_EXTENDING, "expires_at": 5 * DAYS, "last_refreshed_at": -50 * DAYS},
    # A long-lived access token beside a refresh token, ending soon.
    {"refresh_token": "r", "expires_at": 5 * DAYS, "last_refreshed_at": -20 * DAYS},
    # A refresh token ending soon.
    {"refresh_token": "r", "expires_at": DAYS / 24, "refresh_expires_at": 5 * DAYS, "last_refreshed_at": -2 * DAYS},
    # A grant refreshed a month ago and not since, its refresh token without an end or with one to come.
    {"refresh_token": "r", "expires_at": -39 * DAYS, "last_refreshed_at": -40 * DAYS},
    {"refresh_token": "r", "expires_at": -39 * DAYS, "last_refreshed_at": -40 * DAYS, "refresh_expires_at": 60 * DAYS},
    # A grant never refreshed, given a month ago; the same two ways.
    {"refresh_token": "r", "expires_at": -39 * DAYS, "created_at": -40 * DAYS},
    {"refresh_token": "r", "expires_at": -39 * DAYS, "created_at": -40 * DAYS, "refresh_expires_at": 60 * DAYS},
], ids=["self-extending", "long-lived-access", "refresh-ending", "refreshed-long-ago", "refreshed-long-ago-ending",
        "never-refreshed", "never-refreshed-ending"])
def test_each_case_of_the_rule_has_a_range(session, app_context, case):
    """Each case alone, so that a range lost fails here even where another
    range happens to hold the cases of `test_every_due_credential_is_in_the_ranges`."""
    now = utcnow()
    org = factories.organization(session)
    times = {key: now + case[key] for key in ("expires_at", "refresh_expires_at", "last_refreshed_at", "created_at")
             if key in case}
    times.setdefault("created_at", now - 60 * DAYS)
    due = factories.credential(session, factories.profile(session, org), refresh_token=case.get("refresh_token"), **times)
    # The same credential superseded, or marked invalid, is not for the scan to renew.
    factories.credential(session, factories.profile(session, org), refresh_token=case.get("refresh_token"),
                         superseded_at=now - DAYS, **times)
    factories.credential(session, factories.profile(session, org), refresh_token=case.get("refresh_token"),
                         status="invalid", **times)

    assert refresh_due(due, case.get("policy", RefreshPolicy()), now)
    assert set(session.exec(may_be_due(now)).scalars().all()) == {due.id}


def statements_of(session, read):
    """(SQL, parameters) of each statement `read()` sends to the credential table."""
    statements = []

    def grab(connection, cursor, statement, parameters, context, executemany):
        if "FROM credential" in statement:
            statements.append((statement, parameters))

    event.listen(session.get_bind(), "before_cursor_execute", grab)
    try:
        read()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", grab)
    assert statements
    return statements


def steps(session, statements):
    """SQLite's virtual-machine steps to run `statements`: the work they do,
    counted exactly where a time would only blur it."""
    counted = [0]

    def count():
        counted[0] += 1
        return 0

    sqlite = session.connection().connection.dbapi_connection
    sqlite.set_progress_handler(count, 1)
    try:
        for statement, parameters in statements:
            session.connection().exec_driver_sql(statement, parameters).all()
    finally:
        sqlite.set_progress_handler(None, 1)
    return counted[0]


def add_not_due(session, org, count, now):
    """`count` credentials of each kind that a range over a shared index
    would read and throw away: short-lived access tokens ending within the
    hour, self-extending tokens granted long ago, superseded grants ending
    soon. None is due a renewal or a notice."""
    sealed = seal("token")
    kinds = [
        ("google_business", {"sealed_refresh_token": sealed, "expires_at": now + DAYS / 24,
                             "last_refreshed_at": now - DAYS / 12, "created_at": now - 90 * DAYS}),
        ("facebook", {"expires_at": now + 50 * DAYS, "created_at": now - 60 * DAYS}),
    ]
    for network, times in kinds:
        ids = session.execute(insert(SocialProfile).returning(SocialProfile.id), [
            {"organization_id": org.id, "network": network, "external_id": uuid4().hex,
             "name": "Client", "handle": "@client"} for _ in range(count)
        ]).scalars().all()
        session.execute(insert(Credential), [{"profile_id": i, "sealed_access_token": sealed, **times} for i in ids])
        session.execute(insert(Credential), [
            {"profile_id": i, "sealed_access_token": sealed, "expires_at": now + 2 * DAYS,
             "created_at": now - 120 * DAYS, "superseded_at": now - 60 * DAYS} for i in ids
        ])
    session.commit()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # it counts SQLite's virtual-machine steps
def test_the_scan_reads_what_is_due_not_every_credential(session, app_context, database):
    """Five times as many credentials that are not due, no more work: each
    range is read from an index that holds only its own kind. (Grants whose
    refresh token ended long ago are the exception: they are passed over in
    an index, a few steps each, without reading their rows.)"""
    now = utcnow()
    org = factories.organization(session)
    factories.credential(session, factories.profile(session, org), expires_in=2 * DAYS)  # due a notice

    def work():
        return steps(session, statements_of(session, lambda: renew_due(now))
                     + statements_of(session, lambda: due_credentials(session, now, now - DAYS)))

    add_not_due(session, org, 40, now)
    few = work()
    add_not_due(session, org, 160, now)
    many = work()
    assert many <= few, (few, many)
