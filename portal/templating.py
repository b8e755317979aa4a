"""What every template can use: status wording, dates, network metadata."""
from flask import g
from flask_babel import format_date, format_datetime, get_locale, gettext as _, lazy_gettext as _l, ngettext

from portal.catalog import NETWORKS, network
from portal.models import InvalidReason
from portal.permissions import manages_organization
from portal.status import Status
from portal.tenancy import brands_of

REASONS = {
    InvalidReason.EXPIRED: _l("Expired on {network}"),
    InvalidReason.PASSWORD_CHANGED: _l("Password changed on {network}"),
    InvalidReason.PERMISSION_REVOKED: _l("Permission revoked on {network}"),
    InvalidReason.ROLE_CHANGED: _l("Role changed on {network}"),
    InvalidReason.APP_REMOVED: _l("App removed on {network}"),
    InvalidReason.CHECKPOINT: _l("{network} asks the account to sign in again"),
    InvalidReason.UNKNOWN: _l("Rejected by {network}"),
}


def reason_text(token_status, network_key):
    """Why a token is expired, in words: "Password changed on Facebook"."""
    reason = REASONS.get(token_status.reason, REASONS[InvalidReason.UNKNOWN])
    return str(reason).format(network=network(network_key).label)


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
    )
    app.jinja_env.filters.update(date=format_date, datetime=format_datetime)

    @app.context_processor
    def current():
        organization = g.get("organization")
        return {
            "header_brands": brands_of(organization.id) if organization else [],
            "current_organization": g.get("organization"),
            "current_membership": g.get("membership"),
            "current_brand": g.get("brand"),
            "all_memberships": g.get("memberships", []),
            "is_manager": manages_organization(g.get("membership")),
        }
