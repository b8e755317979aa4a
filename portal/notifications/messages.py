"""The words of token notices by email, in the recipient's language."""
from functools import lru_cache

from babel import Locale, dates
from flask import current_app, url_for
from flask_babel import force_locale, format_datetime, get_translations, gettext as _, ngettext

from portal import timezones
from portal.networks import network
from portal.db import utcnow
from portal.mailer import Email
from portal.notifications.rules import KIND_EXPIRED, KIND_EXPIRING, KIND_INVALID, told_at
from portal.status import TokenStatus, Status
from portal.templating import reason_text, utc_offset


def subject(kind, days, profile_name, network_label):
    """"Action needed: the Facebook token of Northwind Café expires in 3 days"
    (`days`: whole days left, `rules.told_at`)."""
    values = {"network": network_label, "name": profile_name}
    if kind == KIND_EXPIRING and days == 0:
        return _("Action needed: the %(network)s token of %(name)s expires today", **values)
    if kind == KIND_EXPIRING:
        return ngettext("Action needed: the %(network)s token of %(name)s expires in %(num)d day",
                        "Action needed: the %(network)s token of %(name)s expires in %(num)d days",
                        days, **values)
    if kind == KIND_EXPIRED:
        return _("Action needed: the %(network)s token of %(name)s has expired", **values)
    return _("Action needed: the %(network)s token of %(name)s has stopped working", **values)


def locale_of(user):
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def moment_for(user, value):
    """`value` as `user` reads it: the day in full and the time, in their
    language and time zone, saying which ("December 7, 2026, 3:00 PM UTC+1")."""
    zone = timezones.zone_of(user.timezone)
    locale, moment, time_format, date_format = moment_formats(locale_of(user))
    local = value.astimezone(zone)
    moment = moment.format(dates.format_time(local, time_format, locale=locale),
                           dates.format_date(local, date_format, locale=locale))
    return f"{moment} {utc_offset(value, zone)}"


@lru_cache
def moment_formats(language):
    """The locale of `language` and its formats for `moment_for`: looked up
    in Babel's locale data once, not for every message."""
    locale = Locale.parse(language)
    return (locale, dates.get_datetime_format("long", locale=locale).replace("'", ""),
            dates.get_time_format("short", locale=locale), dates.get_date_format("long", locale=locale))


def url_context():
    """A request context on BASE_URL, so that a worker builds the same
    absolute URLs as the site."""
    return current_app.test_request_context("/", base_url=current_app.config["BASE_URL"])


NOTICE_TEMPLATES = ("email/token_notice.txt", "email/token_notice.html")


def token_notice(notification, user, profile, organization, credential, secret):
    """The email of one notice to one person, with their renewal link; built
    inside `url_context()`, which a worker enters once for a whole batch.

    Its text and HTML are rendered from one context by the templates
    themselves, not `render_template`: the site's context processors (the
    signed-in person's organization, brand and memberships), which a notice
    does not use, would run twice for every message."""
    label = network(profile.network).label
    kind, days = told_at(notification.kind, notification.expires_at, utcnow())
    with force_locale(locale_of(user)):
        reason = None
        if kind == KIND_INVALID:
            status = TokenStatus(Status.EXPIRED, None, None, credential.invalid_reason)
            reason = reason_text(status, profile.network)
        context = {
            "user": user,
            "profile": profile,
            "organization": organization,
            "network_label": label,
            "native_permission": str(network(profile.network).native_permission),
            "kind": kind,
            "days": days,
            "expires_at": moment_for(user, notification.expires_at) if notification.expires_at else None,
            "reason": reason,
            "link": url_for("links.member", secret=secret, _external=True),
            "preferences": url_for("settings.personal", _external=True),
        }
        text, html = (current_app.jinja_env.get_template(name).render(context) for name in NOTICE_TEMPLATES)
        return Email(
            subject=subject(kind, days, profile.name, label),
            recipients=[user.email],
            body=text,
            html=html,
            extra_headers={"List-Unsubscribe": f"<{context['preferences']}>"},
        )


def preload():
    """Load what writing token notices needs, which a job's process would
    otherwise load again for itself: the templates, and the catalogue and
    locale data of every language. A worker calls it once, before it forks."""
    for name in NOTICE_TEMPLATES:
        current_app.jinja_env.get_template(name)
    with url_context():
        for language in current_app.config["LANGUAGES"]:
            moment_formats(language)
            with force_locale(language):
                get_translations()
                format_datetime(utcnow(), "long")


def client_link_subject(profile_name, network_label, organization_name):
    return _("Please renew the %(network)s connection of %(name)s", network=network_label, name=profile_name)


def member_link_subject(profile_name, network_label, organization_name):
    return _("%(organization)s asks you to renew %(name)s on %(network)s", organization=organization_name,
             network=network_label, name=profile_name)


def _slack_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(notification, profile, organization):
    """The Slack message of one notice: who, what, and a link to the profile (in the portal's language)."""
    label = network(profile.network).label
    with url_context(), force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = subject(*told_at(notification.kind, notification.expires_at, utcnow()), profile.name, label)
        link = url_for("accounts.profile", profile_id=profile.id, _external=True)
        return {"text": f"{_slack_escape(text)} (<{link}|{_slack_escape(_('Open in Keepalive'))}>)",
                "unfurl_links": False}


def slack_test_message(organization):
    """What "Send a test" posts to Slack (in the portal's language)."""
    with url_context(), force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        text = _("A test from Keepalive: the token notices of %(organization)s will appear in this channel.",
                 organization=organization.name)
        link = url_for("notifications.integrations", _external=True)
        return {"text": f"{_slack_escape(text)} (<{link}|{_slack_escape(_('Open in Keepalive'))}>)",
                "unfurl_links": False}


def push_message(notification, user, profile):
    """The web push notice shown by the service worker: title, body and where a click leads."""
    label = network(profile.network).label
    with url_context(), force_locale(locale_of(user)):
        return {
            "title": subject(*told_at(notification.kind, notification.expires_at, utcnow()), profile.name, label),
            "body": _("Renew it in Keepalive before publishing stops."),
            "url": url_for("accounts.profile", profile_id=profile.id, _external=True),
            "tag": f"profile-{profile.id}",
        }
