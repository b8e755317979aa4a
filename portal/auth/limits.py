"""How often sign-in and reset requests may be tried (Flask-Limiter, on Redis)."""
from flask import current_app, request
from flask_limiter.util import get_remote_address

# Reset emails to one address, whatever the sender: enough for a lost email,
# too few to flood an inbox.
RESET_EMAILS_PER_HOUR = 5


def attempts_per_minute():
    return f"{current_app.config['LOGIN_ATTEMPTS_PER_MINUTE']} per minute"


def reset_emails_per_hour():
    return f"{RESET_EMAILS_PER_HOUR} per hour"


def failed_sign_in(response):
    """Only a refused password counts; successes and malformed forms do not."""
    return response.status_code == 401


def _key(kind, value):
    # The app's own prefix is named here because the shared limiter keeps the
    # prefix of the first app it was bound to; this keeps apps (and tests) apart.
    return f"{current_app.config.get('RATELIMIT_KEY_PREFIX', '')}:{kind}:{value}"


def by_address():
    return _key("address", get_remote_address())


def by_account():
    """The account asked for: the submitted email, as it is stored."""
    return _key("account", (request.form.get("email") or "").strip().lower())
