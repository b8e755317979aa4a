"""What every template can use: status wording, dates, network metadata."""
from datetime import datetime
from functools import lru_cache

from babel import dates
from flask import g, request, url_for
from flask_babel import get_locale, get_timezone, get_translations, lazy_gettext as _l

from portal.extensions import kept_in_process
from portal.networks import NETWORKS, network
from portal.models import InvalidReason
from portal.permissions import manages_organization
from portal.status import Status
from portal.tenancy import current_brands



def N_(string):
    """Marks a message to translate where it is used, not where it is written."""
    return string


REASONS = {
    InvalidReason.EXPIRED: N_("Expired on {network}"),
    InvalidReason.PASSWORD_CHANGED: N_("Password changed on {network}"),
    InvalidReason.PERMISSION_REVOKED: N_("Permission revoked on {network}"),
    InvalidReason.ROLE_CHANGED: N_("Role changed on {network}"),
    InvalidReason.APP_REMOVED: N_("App removed on {network}"),
    InvalidReason.CHECKPOINT: N_("{network} asks the account to sign in again"),
    InvalidReason.UNKNOWN: N_("Rejected by {network}"),
}


def current_translations():
    """Flask-Babel's translations of the current locale. Flask-Babel finds
    them anew for every string, through several context lookups that a page
    of many rows feels; they are kept here for as long as the locale stays
    the same object (`force_locale` and `refresh` replace or drop it)."""
    state = g._get_current_object()
    locale = getattr(getattr(state, "_flask_babel", None), "babel_locale", None)
    kept = getattr(state, "kept_translations", None)
    if locale is None or kept is None or kept[0] is not locale:
        kept = state.kept_translations = (get_locale(), get_translations())
    return kept[1]


def _(string):
    return current_translations().ugettext(string)


def ngettext(singular, plural, num):
    return current_translations().ungettext(singular, plural, num) % {"num": num}


def reason_text(token_status, network_key):
    """Why a token is expired, in words: "Password changed on Facebook"."""
    reason = REASONS.get(token_status.reason, REASONS[InvalidReason.UNKNOWN])
    return _(reason).format(network=network(network_key).label)


def status_text(token_status, network_key):
    """"Expired · Password changed on Facebook", "Expires today", "Expires in 3 days"…"""
    if token_status.status == Status.EXPIRED:
        return _("Expired") + " · " + reason_text(token_status, network_key)
    if token_status.status == Status.NO_EXPIRY:
        return _("No expiration date")
    if token_status.days_left == 0:
        return _("Expires today")
    return ngettext("Expires in %(num)d day", "Expires in %(num)d days", token_status.days_left)


def status_pill(token_status):
    """The short text of a status pill: "Expired", "3 days left", "Valid"…"""
    if token_status.status == Status.EXPIRED:
        return _("Expired")
    if token_status.status == Status.NO_EXPIRY:
        return _("No expiration date")
    if token_status.status == Status.EXPIRING:
        if token_status.days_left == 0:
            return _("Expires today")
        return ngettext("%(num)d day left", "%(num)d days left", token_status.days_left)
    return _("Valid")


def locale_and_zone():
    """The current locale and time zone, as Flask-Babel chose them for this
    request, read without its lookups on every date."""
    babel_state = getattr(g._get_current_object(), "_flask_babel", None)
    locale = getattr(babel_state, "babel_locale", None) or get_locale()
    zone = getattr(babel_state, "babel_tzinfo", None) or get_timezone()
    return locale, zone


def format_date(value, format="medium"):
    """The day of a moment, in the current locale and time zone (Flask-Babel's
    filter, less its lookups): each written once a request."""
    written = g.setdefault("formatted_dates", {})
    key = (value, format)
    if key not in written:
        written[key] = formatted(dates.format_date, value, format, *locale_and_zone())
    return written[key]


def format_datetime(value, format="medium"):
    """A moment in the current locale and time zone, saying which zone
    ("Dec 7, 2026, 3:00:00 PM CET"; Babel's long and full formats name it
    themselves)."""
    locale, zone = locale_and_zone()
    text = formatted(dates.format_datetime, value, format, locale, zone)
    if format in ("short", "medium"):
        text = f"{text} {utc_offset(value, zone)}"
    return text


def utc_offset(value, zone):
    """Which zone a moment is shown in, the same in every language: "UTC",
    "UTC+1", "UTC−5", "UTC+5:30" (CLDR's short names exist for few zones in
    some languages and none in others)."""
    offset = value.astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "\u2212"
    hours, minutes = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


@lru_cache(maxsize=16384)
def formatted(formatter, value, format, locale, zone):
    """Babel's formatting is pure and slow, and a page of profiles shows the
    same moments on every view: each is written once per locale and zone."""
    if formatter is dates.format_date:
        return formatter(value.astimezone(zone) if isinstance(value, datetime) else value, format, locale=locale)
    return formatter(value, format, tzinfo=zone, locale=locale)


# An id no row has, built into a URL once and then swapped for real ones.
PLACEHOLDER_ID = 987654321987


def url_pattern(endpoint, argument="profile_id"):
    """(before the id, after it): `endpoint`'s URL for any `argument`, built
    once a process for the app's root (all it depends on besides the id)."""
    patterns = kept_in_process("keepalive.url_patterns")
    key = (request.script_root, endpoint, argument)
    if key not in patterns:
        patterns[key] = tuple(url_for(endpoint, **{argument: PLACEHOLDER_ID}).split(str(PLACEHOLDER_ID)))
    return patterns[key]


def profile_url(endpoint, profile_id, argument="profile_id"):
    """`url_for(endpoint, **{argument: profile_id})` for pages of many rows:
    only the id changes from one to the next (`url_pattern`)."""
    before, after = url_pattern(endpoint, argument)
    return f"{before}{profile_id}{after}"


def static_url(filename):
    """`url_for("static", filename=filename)`, built once a process for each
    file and the app's root (what it depends on): every page links a dozen."""
    urls = kept_in_process("keepalive.static_urls")
    key = (request.script_root, filename)
    if key not in urls:
        urls[key] = url_for("static", filename=filename)
    return urls[key]


ROLE_LABELS = {"owner": _l("Owner"), "manager": _l("Manager"), "member": _l("Member")}
ACCESS_LABELS = {"admin": _l("Admin"), "editor": _l("Editor"), "viewer": _l("Viewer")}


def init_app(app):
    app.jinja_env.globals.update(
        get_locale=get_locale,
        network=network,
        NETWORKS=NETWORKS,
        status_text=status_text,
        reason_text=reason_text,
        status_pill=status_pill,
        ROLE_LABELS=ROLE_LABELS,
        ACCESS_LABELS=ACCESS_LABELS,
        header_brands=current_brands,
        profile_url=profile_url,
        static_url=static_url,
    )
    app.jinja_env.filters.update(date=format_date, datetime=format_datetime)
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: current_translations().ugettext(string),
        ngettext=lambda singular, plural, n: current_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: current_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: current_translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )

    @app.context_processor
    def current():
        return {
            "current_organization": g.get("organization"),
            "current_membership": g.get("membership"),
            "current_brand": g.get("brand"),
            "all_memberships": g.get("memberships", []),
            "is_manager": manages_organization(g.get("membership")),
        }
