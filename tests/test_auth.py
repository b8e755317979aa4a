"""Signing in and out: passwords, fresh sessions, safe `next`, and the
attempt limits (Flask-Limiter on the real Redis)."""
import pytest

from tests import factories
from tests.conftest import csrf_token

MISMATCH = "That email and password do not match an account."


@pytest.fixture
def owner(store):
    org = factories.organization(store, name="Northwind Agency")
    return factories.member(store, org, role="owner", email="owner@example.test")


def sign_in(client, email, password=factories.PASSWORD, address="127.0.0.1", **kwargs):
    token = csrf_token(client)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


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


def test_inactive_account_cannot_sign_in(client, store):
    factories.user(store, email="gone@example.test", active=False)
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


def test_eleventh_failure_from_one_address_is_refused(client, owner):
    # Ten failures against ten different accounts from one address.
    for n in range(10):
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


def test_sign_in_starts_a_new_session(client, owner):
    with client.session_transaction() as before:
        before["planted"] = "set before sign-in"
    cookie_before = client.get_cookie("session").value
    assert sign_in(client, "owner@example.test").status_code == 303
    assert client.get_cookie("session").value != cookie_before
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"].startswith(f"{owner.id}:")


def test_sign_out(client, auth, owner):
    sign_in(client, "owner@example.test")
    assert client.get("/").status_code == 200
    response = auth.post("/logout", token_from="/")
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
