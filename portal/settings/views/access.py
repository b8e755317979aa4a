"""Profile access: each member's level (Admin, Editor, Viewer or none) on
each social profile. Owners and Managers see every profile anyway."""
from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlmodel import select

from portal.db import get_session
from portal.models import AccessLevel, Brand, Membership, SocialProfile, User
from portal.numbers import whole_number
from portal.paging import Listing, page_of
from portal.permissions import manages_organization
from portal.profiles import brands_by_profile
from portal.settings import service
from portal.settings.forms import ConfirmForm
from portal.settings.views import bp
from portal.tenancy import brands_of, managers_only
from portal.web import owned_or_404, redirect_after_post, render, wants_fragment

LEVELS = {"", *AccessLevel}


def chosen_brand():
    """The brand filter of the page (`?brand=`), None for every brand; 404 for
    anything but a brand of this organization, which must never widen to every
    profile ("Set all matching profiles" would then set them all)."""
    value = request.values.get("brand", "")
    if value == "":
        return None
    brand_id, brand = whole_number(value), None
    if brand_id is not None:
        brand = get_session().exec(
            select(Brand).where(Brand.id == brand_id, Brand.organization_id == g.organization.id)
        ).first()
    if brand is None:
        abort(404)
    return brand


def member_page(membership, user, status=200, error=None):
    brand, listing = chosen_brand(), Listing.of(request.values)
    page = page_of(service.profiles_matching(g.organization, listing.text, in_brand=brand), listing.number)
    return render(
        "settings/access_member.html",
        block="access_profiles",
        status=status,
        membership=membership,
        person=user,
        implicit=manages_organization(membership),
        listing=listing,
        page=page,
        brands=brands_by_profile([p.id for p in page.items]),
        levels=service.access_levels(user.id, g.organization),
        all_brands=brands_of(g.organization.id),
        brand=brand,
        error=error,
    )


@bp.route("/access")
@login_required
@managers_only
def access():
    return render(
        "settings/access.html",
        rows=service.members_of(g.organization),
        counts=service.access_counts(g.organization),
        profile_count=service.profile_count(g.organization),
    )


@bp.route("/access/<int:membership_id>", methods=["GET", "POST"])
@login_required
@managers_only
def access_member(membership_id):
    """GET: the member's level on every profile; POST: save the whole table
    (the form for browsers without JavaScript, and "set all shown")."""
    membership = owned_or_404(Membership, membership_id)
    user = get_session().get(User, membership.user_id)
    if request.method == "GET":
        return member_page(membership, user)
    if not ConfirmForm().validate():
        abort(400)
    brand, listing = chosen_brand(), Listing.of(request.args)
    bulk = request.form.get("all")
    if bulk is not None:
        # "Set all matching profiles": every page of the list, as filtered.
        profiles = get_session().exec(service.profiles_matching(g.organization, listing.text, in_brand=brand)).all()
        wanted = {profile.id: bulk for profile in profiles}
    else:
        # The table of one page, for browsers without JavaScript.
        posted = {whole_number(key.removeprefix("level-")): value for key, value in request.form.items()
                  if key.startswith("level-")}
        posted.pop(None, None)
        profiles = get_session().exec(select(SocialProfile).where(
            SocialProfile.organization_id == g.organization.id, SocialProfile.id.in_(posted))).all()
        wanted = {profile.id: posted[profile.id] for profile in profiles}
    if any(level not in LEVELS for level in wanted.values()):
        return member_page(membership, user, status=400, error=_("Choose Admin, Editor, Viewer or No access."))
    changed = sum(service.set_access(user, p, wanted[p.id]) for p in profiles)
    get_session().commit()
    flash(_("Access of %(name)s saved (%(count)d changed).", name=user.display_name, count=changed), "success")
    return redirect_after_post(url_for("settings.access_member", membership_id=membership.id,
                                       brand=brand.id if brand else None, **listing.query()))


@bp.route("/access/<int:membership_id>/<int:profile_id>", methods=["POST"])
@login_required
@managers_only
def access_level(membership_id, profile_id):
    """One profile's level, saved as soon as its menu changes."""
    membership = owned_or_404(Membership, membership_id)
    profile = owned_or_404(SocialProfile, profile_id)
    user = get_session().get(User, membership.user_id)
    if not ConfirmForm().validate():
        abort(400)
    level = request.form.get(f"level-{profile.id}", request.form.get("level"))
    error = None
    if level not in LEVELS:
        error = _("Choose Admin, Editor, Viewer or No access.")
    elif service.set_access(user, profile, level):
        get_session().commit()
    if not wants_fragment():
        if error:
            return member_page(membership, user, status=400, error=error)
        flash(_("Access of %(name)s saved.", name=user.display_name), "success")
        return redirect_after_post(url_for("settings.access_member", membership_id=membership.id))
    return render(
        "settings/access_member.html",
        block="access_row",
        status=400 if error else 200,
        membership=membership,
        person=user,
        profile=profile,
        brands=brands_by_profile([profile.id]),
        levels=service.access_levels(user.id, g.organization),
        row_error=error,
        saved=not error,
    )
