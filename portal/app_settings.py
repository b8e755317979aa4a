"""Keepalive's own settings at each network (its OAuth app: the client id and
secret, the products and plan it is approved for, the API version it
speaks), as the networks judge them.

A network refusing them (`AppSettingsRefused`) says nothing of anyone's
token, so no credential is flagged on it (a fault of the app is never a dead
token). What the network said is kept in Redis with the time (`refused`,
listed on /healthz) until a call to that network works again (`accepted`),
and the Owners of the agencies with profiles there hear of it once by email,
at most once a day for one app. The same Owners are warned, and /healthz
shows it, from 30 days before the configured Graph API version ends
(`warn_before_graph_version_ends`).
"""
import json
import logging
from datetime import date, timedelta

from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlmodel import select

from portal import mailer
from portal.db import get_session, utcnow
from portal.models import Membership, Role, SocialProfile, User
from portal.networks import NETWORKS, network
from portal.networks.meta_graph import graph_version_end
from portal.queue import redis, redis_key

log = logging.getLogger("keepalive.app_settings")

TOLD_FOR = timedelta(days=1)  # an app's Owners hear of a refusal at most this often
GRAPH_WARNING = timedelta(days=30)  # before the configured Graph API version ends
GRAPH_NETWORKS = tuple(key for key, entry in NETWORKS.items() if entry.client_id_setting == "FACEBOOK_CLIENT_ID")

# What a person is told when a renewal meets it.
REFUSED = _l("%(network)s refused Keepalive's own app settings, so nothing was renewed and no token changed. "
             "The agency's Owners are told; try again once the settings are fixed.")

SUBJECTS = {
    "refused": _l("Keepalive's %(network)s app settings are wrong"),
    "graph_version": _l("Keepalive's Facebook app speaks a Graph API version that ends on %(ends_on)s"),
}


def key(name):
    """A Redis key of this deployment (under its `REDIS_KEY_PREFIX`)."""
    return redis_key(f"app_settings:{name}")


# --- refusals ----------------------------------------------------------------

def report(network_key, detail, now=None):
    """A network refused the app's own settings: keep it, and tell the Owners
    once. Never raises: a failure to tell must not hide the refusal's cause."""
    now = now or utcnow()
    try:
        fresh = redis().hsetnx(key("refused"), network_key, json.dumps({"at": now.isoformat(), "detail": detail}))
        log.warning("%s refused the app's settings: %s", network_key, detail)
        entry = network(network_key)
        if fresh and redis().set(key(f"told:{entry.client_id_setting}"), now.isoformat(), nx=True,
                                 ex=int(TOLD_FOR.total_seconds())):
            tell_owners("refused", [network_key], network=entry.label, detail=detail,
                        id_setting=entry.client_id_setting, secret_setting=entry.client_secret_setting)
    except Exception:  # noqa: BLE001 - the refusal is in the log line above
        log.exception("the refusal of %s's app settings could not be recorded", network_key)


def accepted(network_key):
    """A call to `network_key` worked: its app settings are no longer refused."""
    try:
        redis().hdel(key("refused"), network_key)
    except Exception:  # noqa: BLE001 - the next success tries again
        log.warning("the app settings of %s could not be marked as accepted", network_key)


def refused(connection=None):
    """{network key: {"at": ISO time, "detail": what the network said}} of the
    networks that refuse the app's settings now."""
    raw = (connection or redis()).hgetall(key("refused"))
    found = {}
    for name, value in raw.items():
        try:
            found[name.decode()] = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            continue
    return found


# --- the Graph API version ---------------------------------------------------

def graph_version_status(today=None):
    """(configured version, its end date or None, whether it ends within the warning)."""
    version = current_app.config["GRAPH_API_VERSION"]
    ends_on = graph_version_end(version)
    today = today or utcnow().date()
    return version, ends_on, ends_on is not None and ends_on - today <= GRAPH_WARNING


def warn_before_graph_version_ends(today=None):
    """Tell the Owners once that the configured Graph API version ends within
    30 days (or has ended); returns whether a warning went out now."""
    version, ends_on, ending = graph_version_status(today)
    if not ending:
        return False
    lasting = max(ends_on - (today or utcnow().date()), timedelta(0)) + GRAPH_WARNING
    if not redis().set(key(f"graph_version_told:{version}"), "1", nx=True, ex=int(lasting.total_seconds())):
        return False
    tell_owners("graph_version", GRAPH_NETWORKS, version=version, ends_on=ends_on)
    return True


# --- telling the Owners ----------------------------------------------------------

def owners_of(network_keys):
    """The active Owners of the agencies with a profile on one of `network_keys`."""
    with_profiles = select(SocialProfile.organization_id).where(SocialProfile.network.in_(list(network_keys)))
    return get_session().exec(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.role == Role.OWNER, Membership.organization_id.in_(with_profiles), User.active.is_(True))
        .distinct().order_by(User.id)
    ).all()


def tell_owners(kind, network_keys, **context):
    for user in owners_of(network_keys):
        subject = SUBJECTS[kind]
        mailer.send(user.email, _Subject(subject, context), "app_settings", locale=user.locale, user=user,
                    kind=kind, **context)


class _Subject:
    """A subject translated in the recipient's language when the message is composed."""

    def __init__(self, text, context):
        self.text, self.context = text, context

    def __str__(self):
        return str(self.text) % {k: format_date(v) if isinstance(v, date) else v for k, v in self.context.items()}
