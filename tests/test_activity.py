"""The activity log: every code the code writes has its words in every
language, events keep the names they need once their profile or person is
gone, sign-ins and workers' renewals are recorded, and Settings → Activity
shows, filters, pages and exports the organization's events only."""
import ast
import csv
import io
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlmodel import select

from portal import spreadsheets
from portal.activity import log, vocabulary
from portal.activity.vocabulary import ACTIONS, KINDS, MODES, REASONS, REVOCATIONS
from portal.audit import audit_in
from portal.db import make_engine
from portal.migrate import upgrade
from portal.models import AuditEvent, InvalidReason, Membership, SocialProfile
from portal.networks.base import TokenSet
from portal.networks.outcomes import RenewNeeded
from portal.renewal.silent import renew_silently
from tests import factories
from tests.test_accounts import QueryCounter

ROOT = Path(__file__).resolve().parents[1]
WRITERS = {"audit": 0, "audit_row": 0, "audit_in": 1}  # the function, and where its code is among its arguments
TRANSLATED = sorted(path.name for path in (ROOT / "portal" / "translations").iterdir() if path.is_dir())


# --- the vocabulary ------------------------------------------------------------

def branches_of(argument):
    """The codes a code argument may be: itself, or each branch of `a if x else (b if y else c)`."""
    if isinstance(argument, ast.IfExp):
        return [*branches_of(argument.body), *branches_of(argument.orelse)]
    return [argument]


def codes_written():
    """Every code passed to `audit`, `audit_in` or `audit_row` in the product
    and the demo, and the calls whose code is not written out."""
    codes, unreadable, direct = {}, [], []
    for path in [*ROOT.glob("portal/**/*.py"), *ROOT.glob("jobs/**/*.py"), *ROOT.glob("devkit/**/*.py")]:
        where = path.relative_to(ROOT)
        if where == Path("portal/audit.py"):
            continue  # the writers themselves
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "AuditEvent":
                direct.append(f"{where}:{node.lineno}")
            if name not in WRITERS or len(node.args) <= WRITERS[name]:
                continue
            argument = node.args[WRITERS[name]]
            for branch in branches_of(argument):
                if isinstance(branch, ast.Constant) and isinstance(branch.value, str):
                    codes.setdefault(branch.value, f"{where}:{node.lineno}")
                else:
                    unreadable.append(f"{where}:{node.lineno}")
    return codes, unreadable, direct


def test_every_code_written_has_its_line_in_the_vocabulary():
    codes, unreadable, direct = codes_written()
    assert len(codes) > 20, "the scan found too few codes to be looking in the right places"
    missing = {code: where for code, where in codes.items() if code not in ACTIONS}
    assert not missing, ("codes written without a line in portal/activity/vocabulary.py ACTIONS "
                         f"(docs/design.md, \"The activity log\"): {missing}")
    assert not unreadable, f"write the code itself (a string, or `a if x else b`, nested) at {unreadable}"
    assert not direct, f"write events through portal.audit (audit, audit_in, audit_row), not AuditEvent(), at {direct}"


def test_the_scan_sees_a_code_without_words(tmp_path, monkeypatch):
    module = ROOT / "portal" / "activity" / "_scan_probe.py"
    module.write_text('audit("nothing.here", email="x")\naudit_in(session, "token.renewed" if ok else code)\n')
    try:
        codes, unreadable, _ = codes_written()
    finally:
        module.unlink()
    assert codes["nothing.here"].endswith("_scan_probe.py:1") and "nothing.here" not in ACTIONS
    assert unreadable == ["portal/activity/_scan_probe.py:2"]


def msgid(lazy):
    return lazy._args[0]


def words_of_the_vocabulary():
    yield from (action.label for action in ACTIONS.values())
    yield from (action.detail for action in ACTIONS.values() if hasattr(action.detail, "_args"))
    yield from KINDS.values()
    yield from MODES.values()
    yield from REASONS.values()
    yield from REVOCATIONS.values()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_word_of_the_vocabulary_is_translated(language):
    with open(ROOT / "portal" / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalogue = read_po(po, locale=language)
    untranslated = [msgid(word) for word in words_of_the_vocabulary()
                    if not (catalogue.get(msgid(word)) and catalogue.get(msgid(word)).string)]
    assert not untranslated


# A value for every name a detail reads.
SAMPLE = {"email": "mia@example.test", "recipient": "client@example.test", "brand": "Café", "url": "https://x.test",
          "name": "Northwind", "old": "member", "new": "manager", "role": "owner", "mode": "silent",
          "reason": InvalidReason.PASSWORD_CHANGED, "allowed": True, "setting": "language",
          "changes": {"expiry_window_days": [7, 10]}, "prefix": "ka_12", "address": "192.0.2.1", "key": "Zapier",
          "said": "HTTP 401", "revocation": "failed", "error": "550 5.1.1 mailbox unavailable"}


@pytest.mark.parametrize("language", ["en", *TRANSLATED])
def test_every_code_reads_in_every_language_without_its_code(app, language):
    with app.test_request_context(), force_locale(language):
        for code, action in ACTIONS.items():
            event = AuditEvent(action=code, data=SAMPLE)
            label, detail = vocabulary.label(code), vocabulary.detail(event)
            assert label and code not in label
            assert action.describe(event.data) is not None, code
            assert code not in detail and "%(" not in detail, code


def test_values_read_in_words(app):
    with app.test_request_context(), force_locale("de"):
        renewed = AuditEvent(action="token.failed", data={"mode": "health_check", "reason": "password_changed"})
        assert vocabulary.label("token.failed") == "Erneuerung fehlgeschlagen"
        assert vocabulary.detail(renewed) == "Prüfung: Passwort im Netzwerk geändert"
        role = AuditEvent(action="member.role_changed", data={"email": "a@x.test", "old": "member", "new": "manager"})
        assert vocabulary.detail(role) == "a@x.test: Mitglied → Manager"
        access = AuditEvent(action="access.changed", data={"email": "a@x.test", "old": "", "new": "admin"})
        assert vocabulary.detail(access) == "a@x.test: Kein Zugriff → Admin"


def test_an_unknown_code_and_an_event_of_before_read_without_codes(app):
    with app.test_request_context(), force_locale("fr"):
        assert vocabulary.label("made.up") == "Autre activité"
        assert vocabulary.detail(AuditEvent(action="made.up", detail="as written then")) == "as written then"
        # Values that no longer fit the template: the free text, never a KeyError.
        assert vocabulary.detail(AuditEvent(action="member.removed", data={"who": "x"}, detail="")) == ""
        assert vocabulary.actor(AuditEvent(action="token.renewed")) == "Keepalive"


# --- what is recorded, and kept --------------------------------------------------

@pytest.fixture
def agency(session):
    return factories.agency(
        session,
        people={"owner": {"role": "owner", "name": "Olivia Owner"},
                "member": {"role": "member", "name": "Mia Member", "can_manage_profiles": True}},
        profiles={"cafe": {"name": "Northwind Café", "network": "x",
                           "credential": {"refresh_token": "r", "expires_in": timedelta(hours=1)}}},
    )


def events(session, **where):
    session.rollback()
    query = select(AuditEvent).order_by(AuditEvent.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return session.exec(query).all()


def test_a_sign_in_is_recorded_in_each_organization_of_the_person(client, auth, session, agency):
    other = factories.organization(session, name="Other Agency")
    session.add(Membership(user_id=agency.people["member"].id, organization_id=other.id, role="member"))
    session.commit()
    auth.login("member@example.test")
    signed_in = events(session, action="auth.signed_in")
    assert {event.organization_id for event in signed_in} == {agency.org.id, other.id}
    assert {event.actor_name for event in signed_in} == {"Mia Member"}


def test_a_sign_in_of_a_person_of_no_organization_is_personal(client, auth, session):
    factories.user(session, email="alone@example.test")
    auth.login("alone@example.test")
    [event] = events(session, action="auth.signed_in")
    assert event.organization_id is None


class Adapter:
    """A network that renews, or says the grant is dead."""

    def __init__(self, dead=False):
        self.dead = dead

    def refresh(self, tokens):
        if self.dead:
            raise RenewNeeded(InvalidReason.PASSWORD_CHANGED)
        return TokenSet(access_token="a2", refresh_token="r2", expires_at=tokens.expires_at + timedelta(hours=2))


def test_a_workers_renewals_are_recorded_as_keepalive_s(app_context, session, agency):
    profile = agency.profiles["cafe"]
    assert renew_silently(profile.id, Adapter(), force=True).renewed
    assert not renew_silently(profile.id, Adapter(dead=True), force=True).renewed
    renewed, failed = events(session, profile_id=profile.id)
    assert (renewed.action, renewed.data, renewed.user_id, renewed.actor_name) == \
        ("token.renewed", {"mode": "silent"}, None, "")
    assert (failed.action, failed.data) == ("token.failed", {"mode": "silent", "reason": "password_changed"})
    assert vocabulary.actor(failed) == "Keepalive"
    assert (renewed.profile_name, renewed.profile_network) == ("Northwind Café", "x")


def test_an_event_keeps_its_profile_and_actor_once_they_are_gone(app_context, session, agency):
    profile, owner = agency.profiles["cafe"], agency.people["owner"]
    audit_in(session, "link.sent", organization_id=agency.org.id, profile=profile, user=owner,
             recipient="client@example.test")
    session.commit()
    session.delete(session.get(SocialProfile, profile.id))
    session.delete(owner)
    session.commit()
    [event] = events(session, action="link.sent")
    assert (event.profile_id, event.user_id) == (None, None)
    assert (event.profile_name, event.profile_network, event.actor_name) == ("Northwind Café", "x", "Olivia Owner")


def test_the_migration_gives_events_of_before_their_names_and_values(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.sqlite'}"
    upgrade(url, "0005")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO organization (id, name, expiry_window_days, notification_thresholds, created_at)"
            " VALUES (1, 'A', 7, '7', '2026-01-01 00:00:00')"))
        connection.execute(sa.text(
            "INSERT INTO user (id, email, name, password_hash, active, session_version, created_at)"
            " VALUES (1, 'o@x.test', '', 'h', 1, 1, '2026-01-01 00:00:00')"))
        connection.execute(sa.text(
            "INSERT INTO social_profile (id, organization_id, network, external_id, name, handle, created_at)"
            " VALUES (1, 1, 'tiktok', 'e', 'Harbor Fitness', '', '2026-01-01 00:00:00')"))
        for action, detail in [("token.failed", "health_check: password_changed"), ("token.renewed", "silent"),
                               ("credential.renewed", "interactive"), ("member.removed", "m@x.test (member)")]:
            connection.execute(sa.text(
                "INSERT INTO audit_event (organization_id, user_id, profile_id, action, detail, created_at)"
                " VALUES (1, 1, 1, :action, :detail, '2026-01-01 00:00:00')"), {"action": action, "detail": detail})
    upgrade(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT action, detail, data, profile_name, profile_network, actor_name FROM audit_event ORDER BY id"
        ).columns(data=sa.JSON)).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("token.failed", "", {"mode": "health_check", "reason": "password_changed"}, "Harbor Fitness", "tiktok",
         "o@x.test"),
        ("token.renewed", "", {"mode": "silent"}, "Harbor Fitness", "tiktok", "o@x.test"),
        ("token.renewed", "", {"mode": "interactive"}, "Harbor Fitness", "tiktok", "o@x.test"),
        ("member.removed", "m@x.test (member)", {}, "Harbor Fitness", "tiktok", "o@x.test"),
    ]


# --- Settings → Activity -----------------------------------------------------------

BERLIN = "Europe/Berlin"


@pytest.fixture
def app_config(app_config):
    # The reader's days start at their own midnight: Berlin's, an hour or two before UTC's.
    return {**app_config, "BABEL_DEFAULT_TIMEZONE": BERLIN}


@pytest.fixture
def office(session):
    """An agency with a day of history, and another agency beside it."""
    made = factories.agency(
        session,
        people={"owner": {"role": "owner", "name": "Olivia Owner", "timezone": BERLIN},
                "manager": {"role": "manager", "name": "Max Manager", "timezone": BERLIN},
                "member": {"role": "member", "name": "Mia Member", "timezone": BERLIN},
                "other": {"role": "member", "name": "Otto Other", "timezone": BERLIN}},
        profiles={"cafe": {"name": "Northwind Café", "network": "facebook"},
                  "gym": {"name": "Harbor Fitness", "network": "tiktok"}},
        rights=[("member", "cafe", "admin")],
    )
    people, profiles, org = made.people, made.profiles, made.org
    day = datetime(2026, 3, 1, 22, 30, tzinfo=timezone.utc)  # 23:30 on March 1st in Berlin
    history = [
        ("token.renewed", dict(profile=profiles["cafe"], mode="silent"), day),
        ("token.failed", dict(profile=profiles["gym"], mode="health_check", reason="password_changed"),
         day + timedelta(hours=1)),  # 00:30 on March 2nd in Berlin, 23:30 on March 1st in UTC
        ("member.role_changed", dict(user=people["owner"], email="max@example.test", old="member", new="manager"),
         day + timedelta(hours=2)),
        ("auth.signed_in", dict(user=people["other"]), day + timedelta(hours=3)),
        ("auth.signed_in", dict(user=people["member"]), day + timedelta(hours=4)),
        ("link.sent", dict(profile=profiles["cafe"], user=people["manager"], recipient="=HYPERLINK(\"x\")"),
         day + timedelta(hours=5)),
    ]
    for code, values, when in history:
        audit_in(session, code, organization_id=org.id, created_at=when, **values)
    elsewhere = factories.agency(session, name="Elsewhere", people={"boss": {"role": "owner", "email": "boss@else.test"}},
                                 profiles={"secret": {"name": "Secret Page"}})
    audit_in(session, "link.sent", organization_id=elsewhere.org.id, profile=elsewhere.profiles["secret"],
             user=elsewhere.people["boss"], recipient="them@else.test")
    session.commit()
    made.elsewhere = elsewhere
    return made


def page_of(client, query=""):
    response = client.get("/settings/activity" + query)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def shown(html):
    """The lines of the page, top to bottom: (who, what)."""
    return re.findall(r'<span class="activity-who">([^<]*)</span>\s*<span class="activity-what"><strong>([^<]+)</strong>',
                      html)


HISTORY = [("Max Manager", "Renewal link sent"), ("Mia Member", "Signed in"), ("Otto Other", "Signed in"),
           ("Olivia Owner", "Role changed"), ("Keepalive", "Renewal failed"), ("Keepalive", "Token renewed")]


@pytest.mark.parametrize("email,name", [("owner@example.test", "Olivia Owner"), ("manager@example.test", "Max Manager")])
def test_owners_and_managers_read_everything_newest_first_in_words(client, auth, office, email, name):
    auth.login(email)
    html = page_of(client)
    assert shown(html) == [(name, "Signed in"), *HISTORY]
    assert "Secret Page" not in html and "them@else.test" not in html  # another agency's
    assert not [code for code in ACTIONS if code in html]
    assert "Health check: Password changed at the network" in html and "max@example.test: Member → Manager" in html
    assert "Times in Europe/Berlin" in html and 'href="/settings/activity.csv"' in html
    assert 'id="activity-person"' in html


def test_a_member_reads_their_own_and_their_profiles_not_others_sign_ins(client, auth, office):
    auth.login("member@example.test")
    html = page_of(client)
    assert shown(html) == [("Mia Member", "Signed in"), ("Max Manager", "Renewal link sent"), ("Mia Member", "Signed in"),
                           ("Keepalive", "Token renewed")]
    assert "Otto Other" not in html and "Role changed" not in html and "Harbor Fitness" not in html
    assert 'id="activity-person"' not in html
    # Their profile page leads to its activity; another profile is not theirs to filter by.
    assert page_of(client, f"?profile={office.profiles['cafe'].id}")
    assert client.get(f"/settings/activity?profile={office.profiles['gym'].id}").status_code == 404


def test_the_filters_narrow_the_log(client, auth, office):
    auth.login("owner@example.test")
    cafe, owner = office.profiles["cafe"], office.people["owner"]
    assert shown(page_of(client, f"?profile={cafe.id}")) == [("Max Manager", "Renewal link sent"),
                                                             ("Keepalive", "Token renewed")]
    assert shown(page_of(client, "?q=harbor")) == [("Keepalive", "Renewal failed")]
    assert shown(page_of(client, f"?person={owner.id}")) == [("Olivia Owner", "Signed in"), ("Olivia Owner", "Role changed")]
    assert shown(page_of(client, "?person=keepalive")) == HISTORY[-2:]
    assert shown(page_of(client, "?kind=people")) == [("Olivia Owner", "Role changed")]
    assert shown(page_of(client, "?kind=renewals&person=keepalive&q=north")) == [("Keepalive", "Token renewed")]
    # Days are Berlin's: 00:30 on March 2nd there is 23:30 on March 1st in UTC.
    assert shown(page_of(client, "?from=2026-03-01&to=2026-03-01")) == [("Keepalive", "Token renewed")]
    assert shown(page_of(client, "?from=2026-03-02&to=2026-03-02")) == HISTORY[:-1]
    assert "No activity matches these filters." in page_of(client, "?from=2026-02-01&to=2026-02-28")


@pytest.mark.parametrize("query,field", [
    ("?from=2026-13-45", "First day"), ("?to=yesterday", "Last day"), ("?from=0001-01-01", "First day"),
    ("?from=2026-3-1", "First day"), ("?from=2026-03-02&to=2026-03-01", "Last day"), ("?kind=everything", "Kind"), ("?profile=abc", "Profile"),
    ("?profile=123456789012345678901234", "Profile"), ("?person=-1", "Person"), ("?person=999999", None),
])
def test_a_filter_that_cannot_be_read_is_said_beside_it_and_kept(client, auth, office, query, field):
    auth.login("owner@example.test")
    response = client.get("/settings/activity" + query)
    if field is None:  # a well-formed id of nobody here
        assert response.status_code == 404
        return
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"<li>{field}: " in html and "could not be read" in html and not shown(html)
    typed = query.split("=", 1)[1].split("&")[0]
    if field.endswith("day") and "&" not in query:
        assert f'value="{typed}"' in html  # what was typed stays in its field
    assert client.get("/settings/activity.csv" + query).status_code == 400


def test_pages_hold_fifty_and_cost_the_same_however_long_the_log(app, client, auth, session, office):
    auth.login("owner@example.test")
    counts = {}
    for total in (20, 140):
        have = len(session.exec(select(AuditEvent).where(AuditEvent.organization_id == office.org.id)).all())
        for n in range(total - have):
            audit_in(session, "auth.signed_in", organization_id=office.org.id, user=office.people["other"],
                     created_at=datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=n))
        session.commit()
        page_of(client, "?page=2")  # what a process keeps between requests (the header's counts) kept
        with QueryCounter(app.extensions["keepalive.engine"]) as counter:
            html = page_of(client, "?page=2")
        counts[total] = counter.count
    lines = shown(html)
    assert len(lines) == 50 and "51–100 of 140" in html
    assert counts[20] == counts[140] and counts[140] <= 8
    assert len(shown(page_of(client, "?page=3"))) == 40 and len(shown(page_of(client, "?page=99"))) == 40


def test_the_csv_is_the_filtered_log_and_no_formula(client, auth, session, office):
    # What people and tools name themselves reaches the CSV: a key called like a formula stays text.
    audit_in(session, "token.reported", organization_id=office.org.id, profile=office.profiles["gym"],
             actor_name="=HYPERLINK(\"http://evil.test\")", key="=HYPERLINK(\"http://evil.test\")")
    session.commit()
    auth.login("owner@example.test")
    reported = list(csv.reader(io.StringIO(client.get("/settings/activity.csv?kind=renewals").get_data(as_text=True))))
    assert reported[1][2:4] == ["'=HYPERLINK(\"http://evil.test\")", "Token reported as refused through the API"]
    response = client.get(f"/settings/activity.csv?profile={office.profiles['cafe'].id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="activity-')
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["When", "Time zone", "Who", "What", "Details", "Profile", "Network"]
    assert rows[1] == ["2026-03-02 04:30:00", BERLIN, "Max Manager", "Renewal link sent", "To =HYPERLINK(\"x\")",
                       "Northwind Café", "Facebook"]
    assert [row[3] for row in rows[1:]] == ["Renewal link sent", "Token renewed"]
    assert rows[2] == ["2026-03-01 23:30:00", BERLIN, "Keepalive", "Token renewed", "Silently", "Northwind Café", "Facebook"]


def test_the_csv_reads_a_long_log_in_batches_each_line_once(client, auth, session, office, monkeypatch):
    monkeypatch.setattr(log, "CSV_BATCH", 4)
    moment = datetime(2026, 2, 1, tzinfo=timezone.utc)
    for n in range(9):  # at one moment: the batches part at an event's id as well as its time
        audit_in(session, "brand.created", organization_id=office.org.id, user=office.people["owner"],
                 created_at=moment, brand=f"Brand {n}")
    session.commit()
    auth.login("owner@example.test")
    rows = list(csv.reader(io.StringIO(client.get("/settings/activity.csv?kind=settings").get_data(as_text=True))))
    assert [row[4] for row in rows[1:]] == [f"Brand {n}" for n in reversed(range(9))]


def test_a_cell_that_would_be_a_formula_is_not_one():
    assert [spreadsheets.safe_cell(value) for value in ("=1+2", "+x", "-x", "@x", "\tx", "plain", None, 3)] == \
        ["'=1+2", "'+x", "'-x", "'@x", "'\tx", "plain", "", "3"]


def test_a_removed_profile_keeps_its_history_in_the_log(client, auth, session, office):
    session.delete(session.get(SocialProfile, office.profiles["cafe"].id))
    session.commit()
    auth.login("owner@example.test")
    html = page_of(client, "?q=northwind")
    assert shown(html) == [("Max Manager", "Renewal link sent"), ("Keepalive", "Token renewed")]
    assert "Northwind Café" in html


def test_the_profile_page_leads_to_the_profiles_activity(client, auth, office):
    auth.login("owner@example.test")
    cafe = office.profiles["cafe"]
    html = client.get(f"/accounts/{cafe.id}").get_data(as_text=True)
    assert f'href="/settings/activity?profile={cafe.id}"' in html and "Renewal link sent" in html


@pytest.mark.parametrize("language,words", [("de", "Token aktualisiert"), ("fr", "Jeton actualisé"), ("nl", "Token vernieuwd")])
def test_the_log_reads_in_the_readers_language(client, auth, office, language, words):
    auth.login("owner@example.test")
    html = client.get("/settings/activity", headers={"Accept-Language": language}).get_data(as_text=True)
    assert words in html and "Token renewed" not in html
