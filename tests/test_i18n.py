"""Languages: the French, German and Dutch catalogues are complete and
well-formed, they cover every message in the code, the main pages render in
each language (the user's choice first, then the browser's), and the header's
language menu switches and remembers the choice."""
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlmodel import select

from portal.config import Config
from portal.models import AuditEvent, User
from tests import factories
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"
LANGUAGES = ["fr", "de", "nl"]
PLURAL_FORMS = {"fr": "(n > 1)", "de": "(n != 1)", "nl": "(n != 1)"}
UPDATE_HOWTO = (
    "Update the catalogues from the top of the project:\n"
    "  .venv/bin/pybabel extract -F portal/translations/babel.cfg --add-location=file --sort-by-file "
    "--project=Keepalive -o portal/translations/messages.pot .\n"
    "  .venv/bin/pybabel update -i portal/translations/messages.pot -d portal/translations "
    "--no-fuzzy-matching --ignore-obsolete\n"
    "then translate the new entries of portal/translations/{fr,de,nl}/LC_MESSAGES/messages.po."
)
# `%(name)s`-style and `{name}`-style placeholders; any other `%` is a stray one
# (Jinja's gettext formats every template message, so it would break the page).
PERCENT_PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrf]|%%")
BRACE_PLACEHOLDER = re.compile(r"\{(\w*)\}")


def catalogue(language):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def placeholders(text):
    names = {match.group(0) for match in PERCENT_PLACEHOLDER.finditer(text) if match.group(0) != "%%"}
    names |= {match.group(0) for match in BRACE_PLACEHOLDER.finditer(text)}
    return names


def stray_percent(text):
    return "%" in PERCENT_PLACEHOLDER.sub("", text)


def forms(value):
    return [value] if isinstance(value, str) else list(value)


def key(message):
    return message.id if isinstance(message.id, str) else tuple(message.id)


def short(message_id):
    return message_id if isinstance(message_id, str) else " | ".join(message_id)


# --- the catalogues --------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_is_complete_and_well_formed(language):
    catalog = catalogue(language)
    assert catalog.num_plurals == 2
    assert catalog.plural_expr == PLURAL_FORMS[language]
    assert not catalog.fuzzy, "the catalogue header is marked fuzzy"
    problems = []
    for message in catalog:
        if not message.id:
            continue
        where = f"{language}: {short(message.id)!r}"
        if message.fuzzy:
            problems.append(f"{where} is fuzzy")
        translations = forms(message.string)
        if message.pluralizable and len(translations) != catalog.num_plurals:
            problems.append(f"{where} has {len(translations)} plural forms, not {catalog.num_plurals}")
        if not all(translations):
            problems.append(f"{where} is not translated")
            continue
        expected = set().union(*(placeholders(text) for text in forms(message.id)))
        for text in translations:
            if placeholders(text) != expected:
                problems.append(f"{where}: placeholders {sorted(placeholders(text))} instead of {sorted(expected)}")
            if stray_percent(text) and not any(stray_percent(source) for source in forms(message.id)):
                problems.append(f"{where}: a lone % in {text!r} (write %% or reword)")
    for message, errors in catalog.check():
        problems.extend(f"{language}: {short(message.id)!r}: {error}" for error in errors)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_compiles_and_translates(tmp_path, language):
    target = tmp_path / language / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", target / "messages.po")
    status = CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(tmp_path), "-l", language])
    assert not status
    translations = Translations.load(str(tmp_path), [language])
    expected = {"fr": "Actualiser le jeton", "de": "Token aktualisieren", "nl": "Token vernieuwen"}[language]
    assert translations.gettext("Renew Token") == expected
    one, many = translations.ngettext("%(num)d profile", "%(num)d profiles", 1), \
        translations.ngettext("%(num)d profile", "%(num)d profiles", 2)
    assert one != many and "%(num)d" in one and "%(num)d" in many


def test_catalogues_cover_every_message_in_the_code(tmp_path):
    """A string marked for translation but missing from a catalogue fails here."""
    template = tmp_path / "messages.pot"
    status = CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(TRANSLATIONS / "babel.cfg"), "-o", str(template), str(ROOT),
    ])
    assert not status and template.exists()
    with open(template, "rb") as pot:
        in_code = {key(message): message for message in read_po(pot) if message.id}
    assert len(in_code) > 400, "extraction found too few messages: is babel.cfg right?"
    missing = {}
    for language in LANGUAGES:
        catalog = catalogue(language)
        translated = {key(message) for message in catalog if message.id}
        for message_id, message in in_code.items():
            if message_id not in translated:
                missing.setdefault(message_id, []).append(language)
    lines = [
        f"  {short(message_id)!r} ({Path(in_code[message_id].locations[0][0]).relative_to(ROOT)}: missing in "
        f"{', '.join(languages)})"
        for message_id, languages in sorted(missing.items(), key=lambda item: short(item[0]))
    ]
    assert not missing, (
        f"{len(missing)} message(s) of the code are not in the catalogues:\n" + "\n".join(lines) + "\n" + UPDATE_HOWTO
    )


def test_the_app_reads_the_catalogues_from_portal_translations(tmp_path):
    config = Config(tmp_path, environ={})
    assert Path(config.BABEL_TRANSLATION_DIRECTORIES) == TRANSLATIONS
    assert config.LANGUAGES == ["en", *LANGUAGES]
    assert (TRANSLATIONS / "messages.pot").exists()


# --- pages in each language --------------------------------------------------------

@pytest.fixture(scope="session")
def compiled_translations(tmp_path_factory):
    """The committed .po files compiled into a folder of the test run, so the
    pages are checked against the catalogues as they are, never a stale .mo."""
    folder = tmp_path_factory.mktemp("translations")
    for language in LANGUAGES:
        target = folder / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        with open(target / "messages.mo", "wb") as mo:
            write_mo(mo, catalogue(language))
    return folder


@pytest.fixture
def app_config(app_config, compiled_translations):
    return {**app_config, "BABEL_TRANSLATION_DIRECTORIES": str(compiled_translations)}


@pytest.fixture
def app(app):
    """Flask-Babel keeps the catalogues it loaded for the whole process: empty
    them before and after, so each test reads the folder its app is given."""
    from portal.extensions import babel

    with app.app_context():
        babel.domain_instance.cache.clear()
    yield app
    with app.app_context():
        babel.domain_instance.cache.clear()


@pytest.fixture
def agency(session):
    made = factories.agency(session, people={"owner": {"role": "owner", "name": "Olivia Hart"}},
                            brands=["Northwind Café"],
                            profiles={"page": {"name": "Northwind Café", "brands": ["Northwind Café"]}})
    factories.credential(session, made.profiles["page"], granted_by_id=made.owner.id)
    return {"org": made.org, "owner": made.owner, "profile": made.profiles["page"]}


def set_locale(session, user, locale):
    session.rollback()
    row = session.get(User, user.id)
    row.locale = locale
    session.add(row)
    session.commit()


def stored_locale(session, user):
    session.rollback()
    return session.get(User, user.id).locale


# One phrase per page and language, from the page's own content (not the header).
PAGES = {
    "/": {"en": "Token status", "fr": "État des jetons", "de": "Token-Status", "nl": "Status van de tokens"},
    "/accounts": {"en": "Effective expiry", "fr": "Expiration effective", "de": "Tatsächlicher Ablauf",
                  "nl": "Werkelijke vervaldatum"},
    "/settings/members": {"en": "Invite someone", "fr": "Inviter quelqu’un", "de": "Jemanden einladen",
                          "nl": "Iemand uitnodigen"},
    "/accounts/connect": {"en": "Connect a profile", "fr": "Connecter un profil", "de": "Profil verbinden",
                          "nl": "Profiel koppelen"},
    "/signup": {"en": "Create your agency", "fr": "Créez votre agence", "de": "Legen Sie Ihre Agentur an",
                "nl": "Maak je bureau aan"},
}
LOGIN = {"en": "Sign in to Keepalive", "fr": "Connexion à Keepalive", "de": "Bei Keepalive anmelden",
         "nl": "Inloggen bij Keepalive"}
HEADER = {"en": "Manage Accounts", "fr": "Gérer les comptes", "de": "Konten verwalten", "nl": "Accounts beheren"}


def assert_in_language(response, language, phrase):
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body[:500]
    assert f'<html lang="{language}">' in body
    assert phrase in body, f"{phrase!r} not on the page in {language}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_login_page_follows_the_browser(client, language):
    response = client.get("/login", headers={"Accept-Language": f"{language},en;q=0.5"})
    assert_in_language(response, language, LOGIN[language])
    assert LOGIN["en"] not in response.get_data(as_text=True)


def test_login_page_in_english_for_other_languages(client):
    assert_in_language(client.get("/login", headers={"Accept-Language": "ja,es;q=0.8"}), "en", LOGIN["en"])
    assert_in_language(client.get("/login"), "en", LOGIN["en"])


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_pages_in_the_users_language(client, auth, session, agency, language):
    set_locale(session, agency["owner"], language)
    auth.login("owner@example.test")
    for path, phrases in PAGES.items():
        # The user's own choice wins over the browser's.
        response = client.get(path, headers={"Accept-Language": "en"})
        assert_in_language(response, language, phrases[language])
        assert_in_language(response, language, HEADER[language])
        assert phrases["en"] not in response.get_data(as_text=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_main_pages_follow_the_browser_without_a_choice(client, auth, agency, language):
    auth.login("owner@example.test")
    for path, phrases in PAGES.items():
        response = client.get(path, headers={"Accept-Language": f"{language}-BE,{language};q=0.9,en;q=0.5"})
        assert_in_language(response, language, phrases[language])


@pytest.mark.parametrize("language", LANGUAGES)
def test_profile_page_with_dates_and_plurals_renders(client, auth, session, agency, language):
    set_locale(session, agency["owner"], language)
    auth.login("owner@example.test")
    response = client.get(f"/accounts/{agency['profile'].id}")
    assert_in_language(response, language, {"fr": "Jeton", "de": "Token", "nl": "Token"}[language])
    assert "Credential history" not in response.get_data(as_text=True)


@pytest.mark.parametrize("language, greeting, hours", [
    ("fr", "Bonjour Olivia,", "pendant 2 heures"),
    ("de", "Hallo Olivia,", "2 Stunden lang"),
    ("nl", "Hallo Olivia,", "gedurende 2 uur"),
])
def test_emails_are_written_in_the_recipients_language(app, language, greeting, hours):
    from portal.mailer import compose

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        message = compose("olivia@example.test", "subject", "password_reset", locale=language,
                          name="Olivia", link="http://localhost/reset/x", hours=2)
    for part in ("text", "html"):
        assert greeting in message[part]
        assert hours in message[part]
        assert "Someone, probably you" not in message[part]
    assert f'<html lang="{language}">' in message["html"]


# --- the language menu ----------------------------------------------------------

def language_buttons(body):
    menu = re.search(r'<form class="language-menu".*?</form>', body, re.S)
    assert menu, "no language menu in the header"
    return re.findall(r'<button role="menuitem" type="submit" name="locale" value="(\w*)"([^>]*)>([^<]*)', menu.group(0))


def test_menu_names_each_language_in_itself(client, auth, agency):
    auth.login("owner@example.test")
    buttons = language_buttons(client.get("/").get_data(as_text=True))
    assert [(value, label.strip()) for value, _, label in buttons] == [
        ("", "Browser default"), ("en", "English"), ("fr", "Français"), ("de", "Deutsch"), ("nl", "Nederlands"),
    ]
    current = [value for value, attributes, _ in buttons if 'aria-current="true"' in attributes]
    assert current == [""]
    assert all(f'lang="{value}"' in attributes for value, attributes, _ in buttons if value)


def test_menu_switches_and_remembers_the_language(client, auth, session, agency):
    auth.login("owner@example.test")
    token = csrf_token(client)
    response = client.post("/settings/language", data={"locale": "fr", "next": "/accounts?status=expired",
                                                       "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/accounts?status=expired"
    assert stored_locale(session, agency["owner"]) == "fr"
    page = client.get("/accounts", headers={"Accept-Language": "de"})
    assert_in_language(page, "fr", PAGES["/accounts"]["fr"])
    current = [value for value, attributes, _ in language_buttons(page.get_data(as_text=True))
               if 'aria-current="true"' in attributes]
    assert current == ["fr"]
    session.rollback()
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "user.settings_changed")).first().data \
        == {"setting": "language", "value": "fr"}

    # A new session of the same user keeps the choice.
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    auth.login("owner@example.test")
    assert_in_language(client.get("/"), "fr", PAGES["/"]["fr"])

    # "Browser default" clears it: the browser's language again.
    response = auth.post("/settings/language", {"locale": "", "next": "/"})
    assert response.status_code == 303
    assert stored_locale(session, agency["owner"]) is None
    assert_in_language(client.get("/", headers={"Accept-Language": "nl"}), "nl", PAGES["/"]["nl"])


def test_menu_answers_htmx_with_a_redirect_header(client, auth, session, agency):
    auth.login("owner@example.test")
    response = auth.post("/settings/language", {"locale": "de", "next": "/settings/members"},
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/settings/members"
    assert stored_locale(session, agency["owner"]) == "de"


@pytest.mark.parametrize("form", [
    {"locale": "xx"}, {"locale": "fr_FR"}, {"locale": "EN"}, {"locale": "en,fr"}, {},
])
def test_menu_refuses_anything_else_with_400(client, auth, session, agency, form):
    set_locale(session, agency["owner"], "nl")
    auth.login("owner@example.test")
    response = auth.post("/settings/language", {**form, "next": "/"})
    assert response.status_code == 400
    # The message is in the user's language, like the rest of the page.
    assert "Kies een taal uit het menu." in response.get_data(as_text=True)
    assert stored_locale(session, agency["owner"]) == "nl"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_menu_goes_back_only_to_pages_of_the_site(client, auth, agency, next_url):
    auth.login("owner@example.test")
    response = auth.post("/settings/language", {"locale": "fr", "next": next_url})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_menu_needs_a_signed_in_user_and_a_csrf_token(client, auth, session, agency):
    response = auth.post("/settings/language", {"locale": "fr"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=")
    auth.login("owner@example.test")
    assert client.post("/settings/language", data={"locale": "fr"}).status_code == 400
    assert stored_locale(session, agency["owner"]) is None


def test_german_says_when_a_token_ends_as_german_does(client, auth, session):
    made = factories.agency(session, people={"owner": {"role": "owner", "locale": "de"}},
                            profiles={"week": {"credential": {"expires_in": timedelta(days=7, hours=2)}},
                                      "days": {"credential": {"expires_in": timedelta(days=3, hours=2)}}})
    auth.login("owner@example.test")
    week, days = (client.get(f"/accounts/{made.profiles[key].id}").get_data(as_text=True) for key in ("week", "days"))
    assert "Läuft in 7 Tagen ab" in week
    assert "Läuft in 3 Tagen ab" in days and "Noch 3 Tage" in days
