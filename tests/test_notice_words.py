"""Every kind of notice, in every language, through every surface that shows
it: the bell, the Notifications page, the emails, web push and Slack. And
Keepalive's own faults answer a page of their own, in the layout."""
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.db import utcnow
from portal.models import Credential, Notification, Organization, SocialProfile, User
from portal.notifications import messages
from portal.notifications.rules import (
    KIND_CLIENT_CONNECTED,
    KIND_EXPIRED,
    KIND_EXPIRING,
    KIND_INVALID,
    KIND_LINK_FAILED,
    KIND_LINK_RENEWED,
    KIND_LINK_UNSENT,
    TOKEN_KINDS,
)
from tests import factories
from tests.test_i18n import set_locale

KINDS = (KIND_EXPIRING, KIND_EXPIRED, KIND_INVALID, KIND_LINK_RENEWED, KIND_LINK_FAILED, KIND_LINK_UNSENT,
         KIND_CLIENT_CONNECTED)
STATUS_WORDS = re.compile(r'<span class="token-status">([^<]+)</span>')


@pytest.fixture
def world(session):
    made = factories.agency(session, people={"owner": {"role": "owner", "name": "Olivia Hart"}},
                            profiles={"tiktok": {"network": "tiktok", "name": "Harbor Fitness",
                                                 "credential": {"status": "invalid",
                                                                "invalid_reason": "password_changed"}}})
    profile, credential = made.profiles["tiktok"], made.credentials["tiktok"]
    now = utcnow()
    for age, kind in enumerate(KINDS):
        session.add(Notification(
            key=f"words-{kind}", user_id=made.owner.id, organization_id=made.org.id, profile_id=profile.id,
            credential_id=credential.id, kind=kind, threshold_days=3 if kind == KIND_EXPIRING else None,
            expires_at=now + timedelta(days=3) if kind == KIND_EXPIRING else now - timedelta(hours=1),
            # The newest first: the order of KINDS.
            created_at=now - timedelta(minutes=age),
        ))
    session.commit()
    return made


def test_every_notice_kind_reads_in_every_language_in_the_bell_and_on_the_notifications_page(
        app, client, auth, session, world):
    auth.login(world.owner.email)
    words = {}
    for language in app.config["LANGUAGES"]:
        set_locale(session, world.owner, language)
        for url, headers in (("/notifications?bell=1", {"HX-Request": "true"}), ("/notifications", {})):
            response = client.get(url, headers=headers)
            body = response.get_data(as_text=True)
            assert response.status_code == 200, (language, url, body[:300])
            shown = STATUS_WORDS.findall(body)
            assert len(shown) == len(KINDS), (language, url, shown)
            words.setdefault(language, shown)
            assert shown == words[language], "the bell and the page word a notice alike"
    english = words["en"]
    assert len(set(english)) == len(KINDS), english  # each kind its own words
    assert all(text.startswith("TikTok · ") for text in english)
    for language, shown in words.items():
        if language != "en":
            untranslated = [text for text, original in zip(shown, english) if text == original]
            assert not untranslated, (language, untranslated)


def test_every_token_notice_is_written_in_every_language_for_email_push_and_slack(app, session, world):
    organization = session.get(Organization, world.org.id)
    notices = {n.kind: n for n in session.exec(select(Notification)).all()}
    profile = session.get(SocialProfile, world.profiles["tiktok"].id)
    credential = session.get(Credential, world.credentials["tiktok"].id)
    written = {}
    with app.app_context(), messages.url_context():
        for language in app.config["LANGUAGES"]:
            user = session.get(User, world.owner.id)
            user.locale = language
            for kind in TOKEN_KINDS:
                email = messages.token_notice(notices[kind], user, profile, organization, credential, "s3cret")
                push = messages.push_message(notices[kind], user, profile)
                assert "Harbor Fitness" in email.subject and "Harbor Fitness" in push["title"]
                assert "/r/s3cret" in email.body or "s3cret" in email.body
                assert email.html and "Harbor Fitness" in email.html
                written[(language, kind)] = (email.subject, email.body, push["body"])
        slack = [messages.slack_message(notices[kind], profile, organization)["text"] for kind in TOKEN_KINDS]
    assert len(set(slack)) == len(TOKEN_KINDS) and all("Harbor Fitness" in text for text in slack)
    for (language, kind), texts in written.items():
        if language != "en":
            english = written[("en", kind)]
            assert all(text != original for text, original in zip(texts, english)), (language, kind)


def test_a_fault_of_keepalive_answers_its_own_page_in_the_layout_in_the_persons_language(
        app, client, auth, session, world, monkeypatch):
    from portal.notifications.views import bell

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error page, not the traceback
    monkeypatch.setattr(bell, "latest", lambda limit: 1 / 0)
    auth.login(world.owner.email)
    titles = {}
    for language in app.config["LANGUAGES"]:
        set_locale(session, world.owner, language)
        response = client.get("/notifications")
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert f'<html lang="{language}">' in body and 'class="topbar"' in body  # the layout, signed in
        assert '<p class="error-code">500</p>' in body and "ZeroDivisionError" not in body
        titles[language] = re.search(r"<h1>([^<]+)</h1>", body).group(1)
    assert titles["en"] == "Something went wrong on our side"
    assert len(set(titles.values())) == len(titles)  # translated


def test_when_the_layout_fails_too_the_error_page_stands_alone(app, client, auth, session, world, monkeypatch):
    from portal import templating

    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login(world.owner.email)

    def broken():
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(templating, "current_brands", broken)  # the header's brand menu
    app.jinja_env.globals["header_brands"] = broken
    response = client.get("/notifications")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and 'class="topbar"' not in body


def test_json_clients_get_json_for_a_fault(app, client, auth, session, world, monkeypatch):
    from portal.notifications.views import bell

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(bell, "latest", lambda limit: 1 / 0)
    auth.login(world.owner.email)
    response = client.get("/notifications", headers={"Accept": "application/json"})
    assert response.status_code == 500 and response.get_json() == {"error": "internal_server_error"}
