"""The activity log: every code the code writes has its words in every
language, events keep the names they need once their profile or person is
gone, sign-ins and workers' renewals are recorded, and Settings → Activity
shows, filters, pages and exports the organization's events only."""
import ast
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from flask_babel import force_locale
from sqlmodel import select

from portal.activity import vocabulary
from portal.activity.vocabulary import ACTIONS, KINDS, MODES, REASONS
from portal.audit import audit_in
from portal.db import make_engine
from portal.migrate import upgrade
from portal.models import AuditEvent, InvalidReason, Membership, SocialProfile
from portal.networks.base import TokenSet
from portal.networks.outcomes import RenewNeeded
from portal.renewal.silent import renew_silently
from tests import factories

ROOT = Path(__file__).resolve().parents[1]
WRITERS = {"audit": 0, "audit_row": 0, "audit_in": 1}  # the function, and where its code is among its arguments
TRANSLATED = sorted(path.name for path in (ROOT / "portal" / "translations").iterdir() if path.is_dir())


# --- the vocabulary ------------------------------------------------------------

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
            branches = [argument.body, argument.orelse] if isinstance(argument, ast.IfExp) else [argument]
            for branch in branches:
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
    assert not unreadable, f"write the code itself (a string, or `a if x else b`) at {unreadable}"
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
          "said": "HTTP 401"}


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
