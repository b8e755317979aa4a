"""Extension objects, created once here and bound to an app in `create_app`."""
from flask import current_app, g, has_request_context, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

babel = Babel()
csrf = CSRFProtect()
htmx = Htmx()
login_manager = LoginManager()
mail = Mail()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def kept_in_process(name, most=4096):
    """The app's dict `name`, kept from one request to the next in this
    process, emptied once it holds more than `most` entries."""
    kept = current_app.extensions.setdefault(name, {})
    if len(kept) > most:
        kept.clear()
    return kept


# The signed-in person's language, kept in the session cookie too: a page
# that cannot read the person (Redis, which holds their session, away:
# `portal.unavailable`) still speaks it.
KEPT_LOCALE = "locale"


def keep_locale(locale):
    if session.get(KEPT_LOCALE) != locale:
        session[KEPT_LOCALE] = locale


def select_locale():
    """The signed-in user's language (the one their cookie keeps while they
    cannot be read), else the browser's best match."""
    from flask import current_app
    from flask_login import current_user

    languages = current_app.config["LANGUAGES"]
    if g.get("page_locale") in languages:  # a page that speaks its own (a client's, in their email's)
        return g.page_locale
    if current_user.is_authenticated:
        if current_user.locale in languages:
            return current_user.locale
    elif session.get(KEPT_LOCALE) in languages:
        return session[KEPT_LOCALE]
    return request.accept_languages.best_match(languages)


def select_timezone():
    """The signed-in person's time zone (Personal settings, first taken from
    their browser); else UTC, which every moment shown then says. Outside a
    request (a job writing an email) nobody is signed in: UTC."""
    from flask_login import current_user

    from portal import timezones

    if has_request_context() and current_user.is_authenticated and timezones.known(current_user.timezone):
        return current_user.timezone
    return None
