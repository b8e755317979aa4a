"""The error pages speak the person's language through and through: none of
Werkzeug's or Flask-WTF's English sentences, and what the app itself said
of the error in the person's words."""
import re

import pytest

from tests import factories
from tests.conftest import csrf_token

WERKZEUG = ("The requested URL was not found", "The method is not allowed", "The CSRF token", "CSRF")
LANGUAGES = ("en", "fr", "de", "nl")


def card(response):
    """The texts of the error's card, tags left out."""
    body = response.get_data(as_text=True)
    section = re.search(r'<section class="card error-card">(.*?)</section>', body, re.S).group(1)
    return [text.strip() for text in re.split(r"<[^>]+>", section) if text.strip()]


@pytest.fixture
def signed_in(client, auth, session):
    factories.agency(session, people={"owner": {"role": "owner", "locale": None}})
    auth.login("owner@example.test")
    return client


def answers(client, language):
    headers = {"Accept-Language": language}
    return {
        404: client.get("/no/such/page", headers=headers),
        405: client.get("/logout", headers=headers),
        400: client.post("/settings/language", data={"locale": "fr"}, headers=headers),  # no CSRF token
    }


@pytest.mark.parametrize("who", ["visitor", "signed in"])
def test_404_405_and_a_refused_form_are_in_the_persons_language(app, client, signed_in, who):
    if who == "visitor":
        client.post("/logout", data={"csrf_token": csrf_token(client)})
    cards = {language: answers(client, language) for language in LANGUAGES}
    for language, responses in cards.items():
        for status, response in responses.items():
            assert response.status_code == status, (language, status)
            assert f'<html lang="{language}">' in response.get_data(as_text=True)
            texts = card(response)
            assert not [text for text in texts if text.startswith(WERKZEUG) or "CSRF" in text], (language, texts)
            if language != "en":
                english = card(cards["en"][status])
                # The code and the product's name aside, every text is the language's own.
                assert [text for text in texts if text in english and text not in (str(status), "Keepalive")] == [], \
                    (language, status, texts)
    assert "Allow" in cards["en"][405].headers


def test_what_the_app_said_of_the_error_is_shown_in_the_persons_words(client, auth, session):
    made = factories.agency(session, people={"owner": "owner", "member": "member"}, brands=["cafe"])
    auth.login("member@example.test")
    refused = client.get("/accounts/connect", headers={"Accept-Language": "de"})
    assert refused.status_code == 403
    assert any("Social-Media-Profile verwalten" in text for text in card(refused))
    auth.login("owner@example.test")
    # What was asked for is not said back: it is the asker's, and in no language.
    asked = client.get(f"/settings/brands/{made.brands['cafe'].id}?show=not+a+choice", headers={"Accept-Language": "fr"})
    assert asked.status_code == 400 and "not a choice" not in asked.get_data(as_text=True)
