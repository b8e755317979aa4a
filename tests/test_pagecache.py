"""Kept pages (`portal.pagecache`): served again without their queries, each
with the request's own CSRF token and values, and rendered afresh after any
commit (in this process or another), when a status changes with time, after
`PAGE_CACHE_SECONDS`, with a flash to show, and always without Redis."""
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import event, text
from sqlmodel import select

from portal import pagecache
from portal.db import utcnow
from portal.models import Membership, SocialProfile
from portal.notifications.login_warning import PENDING
from tests import factories as f
from tests.conftest import Auth

HTMX = {"HX-Request": "true"}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class Queries:
    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def __call__(self, _connection, _cursor, statement, *_):
        if not statement.startswith("BEGIN"):  # SQLite's, sent as a statement
            self.statements.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self)


def get(app, client, path, headers=None):
    """The page's text and the number of SQL statements it took."""
    with Queries(app.extensions["keepalive.engine"]) as queries:
        response = client.get(path, headers=headers or {})
    assert response.status_code == 200, path
    return response.get_data(as_text=True), len(queries.statements)


@pytest.fixture
def agency(session):
    made = f.agency(
        session, name="Kept Agency", expiry_window_days=7,
        people={"owner": {"role": "owner", "email": "owner@kept.test"},
                "member": {"role": "member", "email": "member@kept.test"}},
        profiles={"shared": {"name": "Shared Page", "credential": {"expires_in": timedelta(days=2, hours=1)}},
                  "private": {"name": "Owner Only Page", "credential": {"expires_in": timedelta(days=1)}}},
        rights=[("member", "shared", "admin")],
    )
    return {"org": made.org, "owner": made.owner, "member": made.people["member"],
            "shared": made.profiles["shared"], "private": made.profiles["private"],
            "shared_expiry": made.credentials["shared"].expires_at,
            "private_expiry": made.credentials["private"].expires_at}


def signed_in(app, email):
    client = app.test_client()
    Auth(client).login(email)
    with client.session_transaction() as cookie:
        cookie.pop(PENDING, None)  # the warning after sign-in was shown
    return client


def generation(app):
    return Redis.from_url(app.config["REDIS_URL"]).get(pagecache.generation_key(app.config["DATABASE_URL"]))


def test_a_second_view_is_served_kept_with_the_requests_own_csrf_token(app, agency):
    first, second = signed_in(app, "owner@kept.test"), signed_in(app, "owner@kept.test")
    rendered, rendering_queries = get(app, first, "/accounts")
    kept, kept_queries = get(app, second, "/accounts")
    # Who is signed in and in which organization is still checked; the page's own queries are not made.
    assert kept_queries <= 2 < rendering_queries
    tokens = [CSRF_META.search(html).group(1) for html in (rendered, kept)]
    assert tokens[0] != tokens[1] and tokens[0] not in kept
    assert kept.replace(tokens[1], tokens[0]) == rendered
    # The token served works.
    response = second.post("/accounts/renew-all", data={"csrf_token": tokens[1], "network": "pinterest"})
    assert response.status_code == 303


def test_people_never_see_each_others_kept_pages(app, agency):
    owner, member = signed_in(app, "owner@kept.test"), signed_in(app, "member@kept.test")
    assert "Owner Only Page" in get(app, owner, "/accounts")[0]
    assert "Owner Only Page" in get(app, owner, "/accounts/expired-tokens", HTMX)[0]
    assert "Owner Only Page" not in get(app, member, "/accounts")[0]
    assert "Owner Only Page" not in get(app, member, "/accounts/expired-tokens", HTMX)[0]


def test_a_commit_in_this_process_shows_at_once_and_a_rollback_changes_nothing(app, agency, session):
    client = signed_in(app, "owner@kept.test")
    get(app, client, "/accounts")
    session.rollback()  # a fresh snapshot: SQLite cannot write from one older than the sign-in's
    profile = session.get(SocialProfile, agency["shared"].id)
    profile.name = "Renamed Page"
    session.flush()
    session.rollback()
    html, queries = get(app, client, "/accounts")
    assert "Shared Page" in html and queries <= 2
    profile = session.get(SocialProfile, agency["shared"].id)
    profile.name = "Renamed Page"
    session.commit()
    html, queries = get(app, client, "/accounts")
    assert "Renamed Page" in html and "Shared Page" not in html and queries > 2


def test_writes_only_the_delivery_workers_read_keep_the_generation(app, agency, session):
    client = signed_in(app, "owner@kept.test")
    get(app, client, "/accounts")
    before = generation(app)
    session.rollback()
    session.exec(text("UPDATE delivery SET status = status WHERE 1 = 0"))
    session.commit()
    assert generation(app) == before
    session.exec(text("UPDATE social_profile SET name = name WHERE 1 = 0"))
    session.commit()
    assert generation(app) != before


@pytest.mark.slow
def test_a_commit_by_another_process_shows_at_once(app, app_config, agency):
    client = signed_in(app, "owner@kept.test")
    get(app, client, "/accounts/expired-tokens", HTMX)
    assert get(app, client, "/accounts/expired-tokens", HTMX)[1] <= 2
    # A worker of its own: another process with its own engine, as RQ's are.
    script = (
        "import sys; from portal import create_app; from portal.db import new_session;"
        "from portal.models import SocialProfile;"
        "app = create_app({'DATABASE_URL': sys.argv[1], 'REDIS_URL': sys.argv[2]});"
        "ctx = app.app_context(); ctx.push();\n"
        "with new_session() as s:\n"
        "    p = s.get(SocialProfile, int(sys.argv[3])); p.name = 'Renamed Elsewhere'; s.commit()\n"
    )
    subprocess.run([sys.executable, "-c", script, app_config["DATABASE_URL"], app_config["REDIS_URL"],
                    str(agency["private"].id)], cwd=ROOT, check=True, timeout=60)
    html, queries = get(app, client, "/accounts/expired-tokens", HTMX)
    assert "Renamed Elsewhere" in html and queries > 2


def test_a_kept_page_lasts_until_a_row_loses_a_day(app, agency, monkeypatch):
    app.config["PAGE_CACHE_SECONDS"] = 30 * 86400
    client = signed_in(app, "owner@kept.test")
    html, _ = get(app, client, "/accounts")
    assert "2 days left" in html
    (kept,) = app.extensions["keepalive.pages"].entries.values()
    # "Shared Page" has 2 days and an hour left: its next day boundary is the page's first change.
    assert kept.until == agency["shared_expiry"] - timedelta(days=2)
    monkeypatch.setattr("portal.pagecache.utcnow", lambda: kept.until - timedelta(microseconds=1))
    assert get(app, client, "/accounts")[1] <= 2
    later = kept.until + timedelta(seconds=1)
    monkeypatch.setattr("portal.pagecache.utcnow", lambda: later)
    monkeypatch.setattr("portal.accounts.views.utcnow", lambda: later)
    html, queries = get(app, client, "/accounts")
    assert queries > 2 and "2 days left" not in html and "1 day left" in html


def test_a_kept_page_lasts_until_any_visible_profile_changes_status(app, agency, session):
    """A profile the page does not list still counts in its status filter."""
    app.config["PAGE_CACHE_SECONDS"] = 30 * 86400
    with app.app_context():
        f.credential(session, f.profile(session, agency["org"], name="Later Page"), expires_in=timedelta(days=30))
    client = signed_in(app, "owner@kept.test")
    html, _ = get(app, client, "/accounts?q=nothing+matches")
    assert "No profile matches these filters" in html
    (kept,) = app.extensions["keepalive.pages"].entries.values()
    # "Owner Only Page" expires first (in a day): the "Expired" and "Expiring" counts change then.
    assert kept.until == agency["private_expiry"]


def test_the_dropdown_is_kept_with_each_pages_own_return_address(app, agency):
    client = signed_in(app, "owner@kept.test")
    first, _ = get(app, client, "/accounts/expired-tokens",
                   {**HTMX, "HX-Current-URL": "http://localhost/accounts?status=expiring&q=a%26b"})
    second, queries = get(app, client, "/accounts/expired-tokens",
                          {**HTMX, "HX-Current-URL": "http://localhost/settings/personal"})
    assert queries <= 2
    assert 'name="next" value="/accounts?status=expiring&amp;q=a%26b"' in first
    assert 'name="next" value="/settings/personal"' in second
    assert pagecache.stand_in("next_url") not in first + second


def test_a_flashed_message_is_shown_once_over_a_kept_page(app, agency):
    client = signed_in(app, "owner@kept.test")
    get(app, client, "/accounts")
    token = CSRF_META.search(get(app, client, "/accounts")[0]).group(1)
    client.post("/accounts/renew-all", data={"csrf_token": token, "network": "pinterest"})
    message = "No token of Pinterest needs renewing"
    assert message in get(app, client, "/accounts")[0]
    html, queries = get(app, client, "/accounts")
    assert message not in html and queries <= 2


def test_the_warning_after_sign_in_is_not_served_from_a_page_kept_without_it(app, agency):
    client = signed_in(app, "owner@kept.test")
    assert "/notifications/login-warning" not in get(app, client, "/accounts")[0]
    with client.session_transaction() as cookie:
        cookie[PENDING] = True
    assert "/notifications/login-warning" in get(app, client, "/accounts")[0]


# Not "without Redis" any more: nobody signs in without it (sessions live there).
@pytest.mark.parametrize("setting", [{"PAGE_CACHE_SECONDS": 0}], ids=["switched off"])
def test_every_request_renders_when_pages_are_not_kept(app_config, database, setting):
    from portal import create_app
    from tests.conftest import empty_database

    app = create_app({**app_config, **setting})
    try:
        with app.app_context():
            from sqlmodel import Session

            with Session(app.extensions["keepalive.engine"], expire_on_commit=False) as session:
                org = f.organization(session)
                f.member(session, org, role="owner", email="alone@kept.test")
                f.credential(session, f.profile(session, org, name="Alone Page"), expires_in=timedelta(days=3))
                assert session.exec(select(Membership)).first() is not None
        client = signed_in(app, "alone@kept.test")
        counts = [get(app, client, "/accounts")[1] for _ in range(2)]
        assert counts[0] == counts[1] > 2
        assert not app.extensions["keepalive.pages"].entries
        assert re.search(r"Alone Page", get(app, client, "/accounts/expired-tokens", HTMX)[0])
    finally:
        app.extensions["keepalive.engine"].dispose()
        empty_database(database)
