"""The organization and brand a signed-in user is working in.

Kept in the session as ids, checked against the user's memberships on every
request, so a stale or forged id falls back to an organization the user
really belongs to.
"""
from functools import cache, wraps

from flask import abort, current_app, g, request, session
from flask_login import current_user
from sqlalchemy import bindparam
from sqlmodel import select

from portal.db import get_session
from portal.models import Brand, Membership, Organization, User
from portal.permissions import manages_organization


def memberships_of(user_id):
    """(membership, organization) pairs of a user, by organization name."""
    return get_session().exec(
        select(Membership, Organization)
        .join(Organization, Organization.id == Membership.organization_id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.name)
    ).all()


@cache
def user_and_memberships_query():
    # Built once: every signed-in request runs it.
    return (
        select(User, Membership, Organization)
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Organization, Organization.id == Membership.organization_id)
        .where(User.id == bindparam("user_id"))
        .order_by(Organization.name)
    )


def user_and_memberships(user_id):
    """The user of `user_id`, or None, read with their memberships in one
    query: every signed-in request needs both (`load_current`)."""
    rows = get_session().exec(user_and_memberships_query(), params={"user_id": user_id}).all()
    if not rows:
        return None
    g.loaded_memberships = (user_id, [(membership, organization) for _, membership, organization in rows
                                      if membership is not None])
    return rows[0][0]


def sessionless(view):
    """Mark a view for which no browser session is read, whatever cookie
    comes along: /healthz, which must answer while Redis (where sessions
    live) does not."""
    view.sessionless = True
    return view


def bearer_only(view):
    """Mark a view that a bearer key authenticates (the token API): no
    browser session is read for it either."""
    return sessionless(view)


def load_current():
    g.membership = g.organization = g.brand = None
    g.memberships = []
    endpoint = request.endpoint or ""
    # A static file is nobody's: the stylesheet of the page that says Redis is away loads.
    if endpoint.rpartition(".")[2] == "static" or getattr(current_app.view_functions.get(endpoint),
                                                          "sessionless", False):
        return
    if not current_user.is_authenticated:
        return
    loaded_for, memberships = g.pop("loaded_memberships", (None, None))
    g.memberships = memberships if loaded_for == current_user.id else memberships_of(current_user.id)
    chosen = session.get("organization_id")
    for membership, organization in g.memberships:
        if organization.id == chosen or g.membership is None:
            g.membership, g.organization = membership, organization
        if organization.id == chosen:
            break
    if g.organization is None:
        return
    brand_id = session.get("brand_id")
    if brand_id is not None:
        g.brand = get_session().exec(
            select(Brand).where(Brand.id == brand_id, Brand.organization_id == g.organization.id)
        ).first()


def current_brands():
    """The brands of the current organization, read once a request."""
    if "brands" not in g:
        g.brands = brands_of(g.organization.id) if g.get("organization") else []
    return g.brands


def brands_of(organization_id):
    return get_session().exec(brands_query(), params={"organization_id": organization_id}).all()


@cache
def brands_query():
    # Built once: every page's header lists the brands.
    return select(Brand).where(Brand.organization_id == bindparam("organization_id")).order_by(Brand.name)


def organization_required(view):
    """A signed-in user with at least one organization."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("organization") is None:
            abort(403, description="no_organization")
        return view(*args, **kwargs)

    return wrapped


def managers_only(view):
    """Only Owners and Managers reach the organization's settings."""

    @wraps(view)
    @organization_required
    def wrapped(*args, **kwargs):
        if not manages_organization(g.membership):
            abort(403, description="managers_only")
        return view(*args, **kwargs)

    return wrapped
