"""How often sign-in and reset requests may be tried.

Every attempt is counted before anything is checked (`portal.attempts`), so
that parallel requests cannot outrun the count; a sign-in that succeeds gives
its counts back. A sign-in is refused past:

- LOGIN_ATTEMPTS_PER_MINUTE for one account from one address;
- ADDRESS_FACTOR times as many from one address over every account (several
  people of an office sign in behind one address);
- LOGIN_ATTEMPTS_PER_MINUTE for one account from every address, except in a
  browser that signed in to that account before (a signed cookie): nobody can
  lock a person out from elsewhere.

An account is counted by its normalized address, so that other spellings of
one address (capitals, full-width letters, a Unicode or an IDNA domain) share
its budget.
"""
import hashlib
import unicodedata

from flask import current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadData, URLSafeTimedSerializer

from portal import attempts

ADDRESS_FACTOR = 3
# Reset emails to one address, whatever the sender: enough for a lost email,
# too few to flood an inbox.
RESET_EMAILS_PER_HOUR = 5
# Sign-ups: emails to one address, and requests from one network address.
SIGNUP_EMAILS_PER_HOUR = 3
SIGNUPS_PER_HOUR_PER_ADDRESS = 10

KNOWN_BROWSER_COOKIE = "known_browser"
KNOWN_BROWSER_DAYS = 365
KNOWN_ACCOUNTS_KEPT = 5


def normalized_account(email):
    """One spelling per address: NFKC, case-folded, the domain in IDNA."""
    text = unicodedata.normalize("NFKC", email.strip()).casefold()
    local, at, domain = text.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # not a domain IDNA can spell: counted as written
    return f"{local}{at}{domain}"


def _account_digest(account):
    # The cookie says which accounts signed in here without naming them.
    return hashlib.sha256(account.encode()).hexdigest()[:16]


class SignInAttempt:
    """One sign-in attempt, counted when made; `retry_after` is 0 if it may be checked."""

    def __init__(self, email):
        account, address = normalized_account(email), get_remote_address()
        per_minute = current_app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
        self.counted = [
            (f"{per_minute} per minute", "account-address", account, address),
            (f"{per_minute * ADDRESS_FACTOR} per minute", "address", address),
        ]
        if _account_digest(account) not in _known_accounts():
            self.counted.append((f"{per_minute} per minute", "account", account))
        self.retry_after = max(attempts.count(limit, *key) for limit, *key in self.counted)

    def succeeded(self):
        for limit, *key in self.counted:
            attempts.give_back(limit, *key)


def count_reset_request(email):
    """Count a reset request: 0 if it may go on, else the seconds to wait."""
    per_minute = current_app.config["LOGIN_ATTEMPTS_PER_MINUTE"]
    return max(
        attempts.count(f"{per_minute} per minute", "reset-address", get_remote_address()),
        attempts.count(f"{RESET_EMAILS_PER_HOUR} per hour", "reset-account", normalized_account(email)),
    )


def count_signup(email):
    """Count a sign-up: 0 if it may go on, else the seconds to wait."""
    return max(
        attempts.count(f"{SIGNUPS_PER_HOUR_PER_ADDRESS} per hour", "signup-address", get_remote_address()),
        attempts.count(f"{SIGNUP_EMAILS_PER_HOUR} per hour", "signup-account", normalized_account(email)),
    )


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="keepalive.known-browser")


def _known_accounts():
    cookie = request.cookies.get(KNOWN_BROWSER_COOKIE)
    if not cookie:
        return []
    try:
        known = _serializer().loads(cookie, max_age=KNOWN_BROWSER_DAYS * 86400)
    except BadData:
        return []
    return known if isinstance(known, list) else []


def mark_browser_known(response, email):
    """After a successful sign-in: this browser passes the account-wide limit of `email` from now on."""
    digest = _account_digest(normalized_account(email))
    known = [digest] + [d for d in _known_accounts() if d != digest][:KNOWN_ACCOUNTS_KEPT - 1]
    response.set_cookie(
        KNOWN_BROWSER_COOKIE, _serializer().dumps(known), max_age=KNOWN_BROWSER_DAYS * 86400,
        httponly=True, samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
