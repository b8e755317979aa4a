"""Signing in and out: passwords, fresh sessions that sign-out ends, safe
`next`, and the attempt limits (counted on the real Redis)."""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from redis import Redis

from portal import create_app
from portal.auth import limits
from portal.auth.passwords import hash_password
from portal.models import User
from tests import factories
from tests.conftest import csrf_token

MISMATCH = "That email and password do not match an account."


@pytest.fixture
def owner(session):
    org = factories.organization(session, name="Northwind Agency")
    return factories.member(session, org, role="owner", email="owner@example.test")


def sign_in(client, email, password=factories.PASSWORD, address="127.0.0.1", remember=False, **kwargs):
    token = csrf_token(client)
    data = {"email": email, "password": password, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": address}, **kwargs)


def sign_out(client):
    return client.post("/logout", data={"csrf_token": csrf_token(client)})


def with_cookie(app, name, value):
    """A browser of its own that holds only a copy of one cookie."""
    browser = app.test_client()
    browser.set_cookie(name, value)
    return browser


def test_login_page_has_the_fields_and_the_reset_link(client):
    page = client.get("/login").get_data(as_text=True)
    assert ">Email</label>" in page
    assert ">Password</label>" in page
    assert ">Sign in</button>" in page
    assert 'href="/reset">Forgot your password?</a>' in page


def test_sign_in(client, owner):
    response = sign_in(client, "owner@example.test")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Northwind Agency" in client.get("/").get_data(as_text=True)


REAL_COST = "$argon2id$v=19$m=65536,t=3,p=4$"


def test_passwords_cost_what_production_pays(app_config, session, owner):
    """The tests hash at the cheapest Argon2id cost (`factories.PASSWORD_HASH_PROFILE`);
    an app left to its settings pays RFC 9106's low-memory cost, and moves a
    cheaper hash up to it at the next sign-in."""
    real = create_app({key: value for key, value in app_config.items() if key != "PASSWORD_HASH_PROFILE"})
    try:
        assert real.config["PASSWORD_HASH_PROFILE"] == "RFC_9106_LOW_MEMORY"
        with real.app_context():
            assert hash_password(factories.PASSWORD).startswith(REAL_COST)
        assert owner.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
        assert sign_in(real.test_client(), owner.email).status_code == 303
        session.rollback()
        stored = session.get(User, owner.id).password_hash
        assert stored.startswith(REAL_COST)
        assert sign_in(real.test_client(), owner.email).status_code == 303
        assert sign_in(real.test_client(), owner.email, password="not the password").status_code == 401
    finally:
        real.extensions["keepalive.engine"].dispose()


def test_sign_in_ignores_case_and_spaces_in_the_email(client, owner):
    assert sign_in(client, "  Owner@Example.TEST ").status_code == 303


def test_wrong_password(client, owner):
    response = sign_in(client, "owner@example.test", "not the password")
    assert response.status_code == 401
    assert MISMATCH in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out


def test_unknown_email_answers_like_a_wrong_password(client, owner):
    response = sign_in(client, "nobody@example.test")
    assert response.status_code == 401
    assert MISMATCH in response.get_data(as_text=True)


def test_inactive_account_cannot_sign_in(client, session):
    factories.user(session, email="gone@example.test", active=False)
    assert sign_in(client, "gone@example.test").status_code == 401


def test_eleventh_failure_for_one_account_is_refused_even_with_the_right_password(client, owner):
    # Ten failures from ten different addresses: the account, not the address, is counted.
    for n in range(10):
        response = sign_in(client, "owner@example.test", "wrong password", address=f"10.0.0.{n}")
        assert response.status_code == 401
    response = sign_in(client, "OWNER@example.test", address="10.0.1.1")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many failed sign-ins in a short time" in page
    assert ">Email</label>" in page  # the sign-in page itself, with the message
    assert "Retry-After" in response.headers
    assert client.get("/").status_code == 302
    # Another account from the same addresses is not affected.
    assert sign_in(client, "nobody@example.test", "wrong password", address="10.0.0.1").status_code == 401


def test_an_address_guessing_many_accounts_is_refused(app, client, owner):
    # Failures against many accounts from one address: several times one account's budget
    # (an office signs in behind one address), then no more.
    budget = app.config["LOGIN_ATTEMPTS_PER_MINUTE"] * limits.ADDRESS_FACTOR
    for n in range(budget):
        assert sign_in(client, f"guess{n}@example.test", "wrong password", address="192.0.2.7").status_code == 401
    assert sign_in(client, "owner@example.test", address="192.0.2.7").status_code == 429
    # The account itself is fine from elsewhere.
    assert sign_in(client, "owner@example.test", address="192.0.2.8").status_code == 303


def test_successes_and_bad_forms_do_not_count(client, owner, app):
    limit = app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
    for _ in range(limit + 2):
        assert sign_in(client, "owner@example.test").status_code == 303
        assert sign_in(client, "not an email").status_code == 400
    for _ in range(limit):
        assert sign_in(client, "owner@example.test", "wrong password").status_code == 401
    assert sign_in(client, "owner@example.test").status_code == 429


def test_the_limit_follows_the_setting(app_config, database):
    from portal import create_app

    app_config["LOGIN_ATTEMPTS_PER_MINUTE"] = 2
    app = create_app(app_config)
    try:
        client = app.test_client()
        assert sign_in(client, "a@example.test", "wrong password").status_code == 401
        assert sign_in(client, "a@example.test", "wrong password").status_code == 401
        assert sign_in(client, "a@example.test", "wrong password").status_code == 429
    finally:
        app.extensions["keepalive.engine"].dispose()


def test_sign_in_starts_a_new_session(app, client, owner):
    with client.session_transaction() as before:
        before["planted"] = "set before sign-in"
    cookie_before = client.get_cookie("session").value
    assert sign_in(client, "owner@example.test").status_code == 303
    assert client.get_cookie("session").value != cookie_before
    with client.session_transaction() as after:
        assert "planted" not in after
        assert len(after["_user_id"]) >= 40  # a random session id, not the user's
    redis, key = session_record(app, client)
    assert redis.hget(key, "user") == str(owner.id).encode()


def test_sign_out(client, auth, owner):
    sign_in(client, "owner@example.test")
    assert client.get("/").status_code == 200
    response = auth.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "You are signed out." in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_sign_out_is_post_only(client, owner):
    sign_in(client, "owner@example.test")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "target", ["//evil.test", "https://evil.test/", "/\\evil.test", "javascript:alert(1)", "evil.test"]
)
def test_next_off_site_is_ignored(client, owner, target):
    response = sign_in(client, "owner@example.test", query_string={"next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_next_on_site_is_followed(client, owner):
    response = sign_in(client, "owner@example.test", query_string={"next": "/settings/members?tab=2"})
    assert response.headers["Location"] == "/settings/members?tab=2"


def test_a_protected_page_sends_to_sign_in_and_back(client, owner):
    response = client.get("/settings/members")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    follow = sign_in(client, "owner@example.test", query_string={"next": "/settings/members"})
    assert follow.headers["Location"] == "/settings/members"


@pytest.mark.parametrize(
    "email, password, message",
    [
        ("", "", "Enter your email address."),
        ("owner@example.test", "", "Enter your password."),
        ("not-an-email", "whatever", "Enter an email address like name@example.com."),
        ("owner@exa mple.test", "whatever", "Enter an email address like name@example.com."),
        ("a" * 250 + "@example.test", "whatever", "An email address has at most 254 characters."),
        ("owner@example.test", "x" * 1025, "That password is too long."),
    ],
)
def test_bad_sign_in_form(client, owner, email, password, message):
    response = sign_in(client, email, password)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_sign_in_without_csrf_token_is_refused(client, owner):
    response = client.post("/login", data={"email": "owner@example.test", "password": factories.PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


# --- sessions: a server-side record that sign-out and password changes end ----------

def test_sign_out_ends_the_session_for_every_copy_of_its_cookies(app, client, owner):
    sign_in(client, "owner@example.test", remember=True)
    copies = {name: client.get_cookie(name).value for name in ("session", "remember_token")}
    for name, value in copies.items():
        assert with_cookie(app, name, value).get("/").status_code == 200, name  # each copy alone opens the portal

    assert sign_out(client).status_code == 303

    for name, value in copies.items():
        response = with_cookie(app, name, value).get("/")
        assert response.status_code == 302 and "/login" in response.headers["Location"], name


def session_record(app, client):
    """The seconds the server keeps this browser's session, and its Redis key."""
    from portal.auth import sessions

    with client.session_transaction() as browser_session:
        session_id = browser_session["_user_id"]
    with app.app_context():
        key = sessions.record_key(session_id)
    connection = Redis.from_url(app.config["REDIS_URL"])
    return connection, key


def test_a_session_ends_after_twelve_idle_hours(app, client, owner):
    assert app.config["SESSION_IDLE_HOURS"] == 12
    sign_in(client, "owner@example.test")
    assert client.get_cookie("remember_token") is None
    redis, key = session_record(app, client)
    assert 12 * 3600 - 60 < redis.ttl(key) <= 12 * 3600

    redis.expire(key, 30)  # eleven hours and a half without a request…
    assert client.get("/").status_code == 200
    assert redis.ttl(key) > 12 * 3600 - 60  # …and a request starts the twelve hours again
    redis.delete(key)  # twelve hours without one
    assert client.get("/").status_code == 302


def test_a_remembered_session_lasts_fourteen_days_from_sign_in(app, client, owner):
    assert app.config["REMEMBER_DAYS"] == 14
    sign_in(client, "owner@example.test", remember=True)
    remembered = client.get_cookie("remember_token")
    in_fourteen_days = datetime.now(timezone.utc) + timedelta(days=14)
    assert abs(remembered.expires - in_fourteen_days) < timedelta(minutes=1)
    redis, key = session_record(app, client)
    assert 14 * 86400 - 60 < redis.ttl(key) <= 14 * 86400
    client.get("/")
    assert 14 * 86400 - 60 < redis.ttl(key) <= 14 * 86400  # neither lengthened nor cut to the idle hours by use

    # The browser closed (no session cookie): the remember cookie signs in again, to the same session.
    reopened = with_cookie(app, "remember_token", remembered.value)
    assert reopened.get("/").status_code == 200
    redis.delete(key)
    assert with_cookie(app, "remember_token", remembered.value).get("/").status_code == 302


# --- limits: counted before anything is checked ---------------------------------------

def test_parallel_wrong_passwords_are_counted_before_they_are_checked(app, owner):
    """Fifty browsers from one address send a wrong password at the same moment:
    no more than the limit are checked, and the right password is refused after."""
    limit = app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
    browsers = [app.test_client() for _ in range(50)]
    tokens = [csrf_token(browser) for browser in browsers]
    start = threading.Barrier(len(browsers))

    def attempt(n):
        start.wait()
        return browsers[n].post("/login", data={
            "email": "owner@example.test", "password": f"wrong guess {n}", "csrf_token": tokens[n],
        }, environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        answers = list(pool.map(attempt, range(len(browsers))))

    assert answers.count(401) <= limit, answers  # checked
    assert answers.count(429) >= len(browsers) - limit
    assert sign_in(app.test_client(), "owner@example.test", address="198.51.100.9").status_code == 429


@pytest.mark.parametrize("spelling", ["OWNER@EXAMPLE.TEST", "owner@ｅｘａｍｐｌｅ.test", "ｏｗｎｅｒ@Example.Test"])
def test_other_spellings_of_an_address_share_its_budget(app, client, owner, spelling):
    limit = app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
    for n in range(limit):
        assert sign_in(client, "owner@example.test", "wrong password", address=f"10.2.0.{n}").status_code == 401
    assert sign_in(client, spelling, address="10.2.1.1").status_code == 429
    assert sign_in(client, "owner@ｅｘａｍｐｌｅ.test", address="10.2.1.2").status_code == 429


def test_a_browser_that_signed_in_before_passes_an_account_wide_lock(app, client, owner):
    limit = app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
    assert sign_in(client, "owner@example.test", address="10.3.0.1").status_code == 303
    sign_out(client)
    attacker = app.test_client()
    for n in range(limit):  # guesses from many addresses lock the account…
        assert sign_in(attacker, "owner@example.test", "wrong password", address=f"10.4.0.{n}").status_code == 401
    assert sign_in(app.test_client(), "owner@example.test", address="10.4.1.1").status_code == 429
    # …for browsers that never signed in to it; the owner's own browser still signs in.
    assert sign_in(client, "owner@example.test", address="10.3.0.1").status_code == 303
    # A known browser is still counted for its own address.
    sign_out(client)
    for _ in range(limit):
        assert sign_in(client, "owner@example.test", "wrong password", address="10.3.0.1").status_code == 401
    assert sign_in(client, "owner@example.test", address="10.3.0.1").status_code == 429
