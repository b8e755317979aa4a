"""The token status in SQL (`portal.profiles.urgency_sql`) against the rule
itself (`portal.status.token_status`): the same status for credentials on
every boundary, the same order, and the scopes the pages filter by."""
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from portal.db import get_session, utcnow
from portal.models import CredentialState, InvalidReason, Membership, Organization, SocialProfile
from portal.profiles import (
    STATUS_OF_URGENCY,
    Scope,
    network_summary,
    time_state,
    renewable,
    status_counts,
    urgency_sql,
    visible,
    visible_profiles,
)
from portal.status import Status, token_status
from portal.versions import changed
from tests import factories as f

WINDOW = 7
SECOND = timedelta(seconds=1)


def edges(now):
    """(name, credential fields or None) on each side of every boundary of the rule."""
    window = timedelta(days=WINDOW)
    cases = [("no credential", None)]
    for when, label in ((now - SECOND, "past"), (now, "now"), (now + SECOND, "just ahead"),
                        (now + window - SECOND, "inside the window"), (now + window, "window's end"),
                        (now + window + SECOND, "beyond the window"), (None, "no date")):
        for check in (None, True, False):
            cases += [
                (f"access token {label}, check {check}", {"expires_at": when, "last_check_ok": check}),
                # A refreshable grant lives by its refresh token: its access token's date must not count.
                (f"refresh token {label}, check {check}",
                 {"refresh_token": "r", "refresh_expires_at": when, "last_check_ok": check,
                  "expires_at": now + timedelta(days=90) if when is None else now - SECOND}),
            ]
        # Data access ends a token that would live longer (a Page token has no end of its own)...
        cases += [
            (f"data access {label}, page token", {"expires_at": None, "data_access_expires_at": when,
                                                  "token_type": "page", "last_check_ok": True}),
            (f"data access {label}, refresh token ends later",
             {"refresh_token": "r", "refresh_expires_at": now + timedelta(days=60), "data_access_expires_at": when,
              "expires_at": now - SECOND}),
            # ...and never one that ends first.
            (f"data access later than an access token {label}",
             {"expires_at": when, "data_access_expires_at": now + timedelta(days=90)}),
        ]
        cases.append((f"invalid, access token {label}",
                      {"expires_at": when, "status": CredentialState.INVALID,
                       "invalid_reason": InvalidReason.PASSWORD_CHANGED}))
        # A dead token ends when it was found dead, or at its end if that came first.
        for found in (now - window, now - SECOND):
            cases.append((f"invalid since {found - now}, access token {label}",
                          {"expires_at": when, "status": CredentialState.INVALID, "invalidated_at": found,
                           "invalid_reason": InvalidReason.PASSWORD_CHANGED}))
    return cases


@pytest.fixture
def world(app, session):
    now = utcnow()
    with app.app_context():
        org = f.organization(session, expiry_window_days=WINDOW)
        owner = f.member(session, org, role="owner")
        names = {}
        for name, fields in edges(now):
            profile = f.profile(session, org, name=name)
            names[profile.id] = name
            if fields is not None:
                fields = dict(fields)
                f.credential(session, profile, refresh_token=fields.pop("refresh_token", None), **fields)
        membership = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()
    return {"org": org, "membership": membership, "names": names, "now": now}


def test_sql_gives_every_credential_the_status_of_the_rule(app, world):
    org, now = world["org"], world["now"]
    with app.app_context():
        rows = visible_profiles(world["membership"], org, now=now)
        with app.extensions["keepalive.engine"].connect() as connection:
            in_sql = dict(connection.execute(
                visible(world["membership"], org, SocialProfile.id, urgency_sql(now, WINDOW))).all())
    assert len(rows) == len(world["names"]) == len(in_sql)
    for row in rows:
        expected = token_status(row.credential, now, WINDOW).status
        assert STATUS_OF_URGENCY[in_sql[row.profile.id]] == expected, world["names"][row.profile.id]
    # Every status is on some edge: the comparison covered them all.
    assert {row.status.status for row in rows} == set(Status)


def test_the_time_state_changes_whenever_what_the_rule_shows_changes_with_time(app, world):
    """At every edge of every token (its end, each whole day before it, the
    window's start), just before, at and just after: wherever a status or a
    token's days left in the window differ between two moments, so does the
    time state the ETags hold."""
    org, now = world["org"], world["now"]
    window = timedelta(days=WINDOW)
    with app.app_context():
        rows = visible_profiles(world["membership"], org, now=now)
    edges = set()
    for row in rows:
        end = row.status.effective_expiry
        if end is None or row.credential is None or row.credential.is_invalid:
            continue
        edges |= {end - timedelta(days=days) for days in range(WINDOW + 2)} | {end - window}
    instants = sorted({now} | {edge + delta for edge in edges for delta in (-SECOND / 1000, 0 * SECOND, SECOND / 1000)
                               if edge + delta >= now})

    def shown(moment):
        statuses = (token_status(row.credential, moment, WINDOW) for row in rows)
        return [(status.status, status.days_left if status.status == Status.EXPIRING else None) for status in statuses]

    with app.app_context():
        states = [time_state(org, instant) for instant in instants]
    changes = 0
    for (before, state_before), (after, state_after) in zip(zip(instants, states), zip(instants[1:], states[1:])):
        if shown(before) != shown(after):
            changes += 1
            assert state_before != state_after, (before, after)
    assert changes > WINDOW  # days lost, expiries and entries into the window were all met


def test_the_database_orders_as_the_rule_sorts(app, world):
    with app.app_context():
        rows = visible_profiles(world["membership"], world["org"], now=world["now"])
    by_rule = sorted(rows, key=lambda row: (row.status.urgency, row.profile.name.lower(), row.profile.id))
    assert [row.profile.id for row in rows] == [row.profile.id for row in by_rule]


def test_counts_pages_and_statuses_agree_with_the_rows(app, world):
    membership, org, now = world["membership"], world["org"], world["now"]
    with app.app_context():
        rows = visible_profiles(membership, org, now=now)
        counts = status_counts(membership, org, now=now)
        for status in Status:
            selected = visible_profiles(membership, org, now=now, scope=Scope(statuses=(status,)))
            assert [row.profile.id for row in selected] == [row.profile.id for row in rows
                                                            if row.status.status == status]
            assert counts[status] == len(selected)
        page = visible_profiles(membership, org, now=now, limit=5, offset=5)
    assert [row.profile.id for row in page] == [row.profile.id for row in rows[5:10]]


def test_text_scope_takes_like_wildcards_literally(app, session):
    with app.app_context():
        org = f.organization(session)
        owner = f.member(session, org, role="owner")
        for name, handle in (("100% Coffee", "@coffee"), ("Tea_House", "@tea"), ("Tea House", "@house")):
            f.credential(session, f.profile(session, org, name=name, handle=handle))
        membership = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()

        def names(text):
            return sorted(row.profile.name for row in visible_profiles(membership, org, scope=Scope(text=text)))

        assert names("0%") == ["100% Coffee"]
        assert names("a_h") == ["Tea_House"]
        assert names("TEA") == ["Tea House", "Tea_House"]
        assert names("@HOUSE") == ["Tea House", "Tea_House"]  # the name or the handle, "@" aside


def test_a_member_counts_and_renews_only_what_they_may(app, session):
    with app.app_context():
        org = f.organization(session)
        person = f.member(session, org, role="member", can_manage_profiles=True)
        administered = f.profile(session, org, network="facebook")
        seen = f.profile(session, org, network="linkedin_company")
        f.profile(session, org, network="x")  # not granted: not seen
        f.credential(session, administered, expires_in=timedelta(days=-1))
        f.credential(session, seen, expires_in=timedelta(days=2))
        f.access(session, person, administered, "admin")
        f.access(session, person, seen, "viewer")
        membership = session.exec(select(Membership).where(Membership.user_id == person.id)).one()
        summary = network_summary(membership, org)
        counts = status_counts(membership, org)
    assert summary.present == {"facebook", "linkedin_company"}
    assert summary.to_renew == {"facebook": 1}
    assert (counts[Status.EXPIRED], counts[Status.EXPIRING], sum(counts.values())) == (1, 1, 2)


@pytest.mark.parametrize("role, can_manage_profiles", [("owner", False), ("manager", False), ("member", True),
                                                       ("member", False)])
def test_renewable_in_sql_is_the_rule_of_may_renew(app, session, role, can_manage_profiles):
    with app.app_context():
        org = f.organization(session)
        person = f.member(session, org, role=role, can_manage_profiles=can_manage_profiles)
        for level in ("admin", "editor", "viewer", None):
            profile = f.profile(session, org)
            if level:
                f.access(session, person, profile, level)
        f.profile(session, f.organization(session))  # another organization's
        membership = session.exec(select(Membership).where(Membership.user_id == person.id)).one()
        by_rule = {row.profile.id for row in visible_profiles(membership, org) if row.renew}
        in_sql = set(session.exec(renewable(membership, org, SocialProfile.id)).all())
    assert in_sql == by_rule
    assert len(in_sql) == {"owner": 4, "manager": 4}.get(role, 1 if can_manage_profiles else 0)


def test_counts_are_kept_while_no_write_and_no_moment_changes_them(app, session):
    """The counts by status are read once for an organization's version and
    time state (`portal.profiles.counted`): read again after a write that
    changes what pages show, after a token crosses an edge of the rule, and
    in a request that has written, in any session, since it read the
    organization."""
    now = utcnow()
    with app.app_context():
        org = f.organization(session, expiry_window_days=WINDOW)
        owner = f.member(session, org, role="owner")
        f.credential(session, f.profile(session, org), expires_at=now + timedelta(days=2, hours=2))
        entering = f.credential(session, f.profile(session, org), expires_at=now + timedelta(days=WINDOW, hours=1))
        membership = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()
    grouped = []

    @event.listens_for(app.extensions["keepalive.engine"], "before_cursor_execute")
    def count_group_by(connection, cursor, statement, *args):
        grouped.extend(["GROUP BY"] if "GROUP BY" in statement else [])

    def counts(at, organization=None):
        kind = status_counts(membership, organization or org, now=at)
        return kind[Status.EXPIRED], kind[Status.EXPIRING], kind[Status.VALID]

    with app.app_context():
        assert counts(now) == (0, 1, 1) and len(grouped) == 1
        assert counts(now + timedelta(minutes=59)) == (0, 1, 1) and len(grouped) == 1  # kept
        assert counts(now + timedelta(hours=1, seconds=1)) == (0, 2, 0) and len(grouped) == 2  # the window met it
    with app.app_context():
        invalidate(session, entering)
        session.refresh(org)  # its version went up with the write
        assert counts(now) == (1, 1, 0) and len(grouped) == 3
    with app.app_context():
        stale = session.get(Organization, org.id)
        session.expunge(stale)  # its version as a request read it before it wrote
        get_session()  # the request's session, which did not write: a session of its own did
        with Session(app.extensions["keepalive.engine"]) as writer:
            f.profile(writer, stale)
        assert counts(now, stale) == (2, 1, 0) and len(grouped) == 4  # the new profile has no token: expired


def invalidate(session, credential):
    credential.status = CredentialState.INVALID
    credential.invalid_reason = InvalidReason.PASSWORD_CHANGED
    session.add(credential)
    changed(session, profile_id=credential.profile_id)
    session.commit()
