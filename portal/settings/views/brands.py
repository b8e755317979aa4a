"""Brands: a workspace per client, and which profiles are enabled in each.
Deleting a brand never deletes a profile."""
from flask import abort, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.audit import audit
from portal.db import get_session
from portal.models import Brand, SocialProfile
from portal.paging import Listing, page_of
from portal.profiles import brands_by_profile
from portal.settings import service
from portal.settings.forms import ConfirmForm, NameForm, SwitchForm
from portal.settings.views import bp
from portal.tenancy import managers_only
from portal.versions import changed
from portal.web import owned_or_404, redirect_after_post, render, wants_fragment


def taken_message(name):
    return _("There is already a brand called “%(name)s”. Choose another name.", name=name)


def brands_page(status=200, form=None):
    return render(
        "settings/brands.html",
        status=status,
        rows=service.brands_with_counts(g.organization),
        form=form or NameForm(formdata=None),
    )


def brand_page(brand, status=200, form=None):
    listing = brand_listing(request.values)
    page = page_of(service.profiles_matching(
        g.organization, listing.text,
        in_brand=brand if listing.show == "in" else None,
        out_of_brand=brand if listing.show == "out" else None,
    ), listing.number)
    shown = [profile.id for profile in page.items]
    return render(
        "settings/brand.html",
        block="brand_profiles",
        status=status,
        brand=brand,
        form=form or NameForm(formdata=None, name=brand.name),
        listing=listing,
        page=page,
        enabled=service.profile_ids_in(brand, among=shown),
        brands=brands_by_profile(shown),
    )


def brand_listing(values):
    """Which profiles the brand page lists: all of them, those in the brand
    or those not in it (`show`), searched and a page at a time."""
    return Listing.of(values, shows=("", "in", "out"))


@bp.route("/brands", methods=["GET", "POST"])
@login_required
@managers_only
def brands():
    if request.method == "GET":
        return brands_page()
    form = NameForm()
    if not form.validate():
        return brands_page(status=400, form=form)
    if service.brand_named(g.organization, form.name.data):
        form.name.errors.append(taken_message(form.name.data))
        return brands_page(status=400, form=form)
    brand = service.create_brand(g.organization, form.name.data)
    get_session().commit()
    flash(_("Brand “%(name)s” created. Choose its profiles below.", name=brand.name), "success")
    return redirect_after_post(url_for("settings.brand", brand_id=brand.id))


@bp.route("/brands/<int:brand_id>", methods=["GET", "POST"])
@login_required
@managers_only
def brand(brand_id):
    """GET: the brand's name and profiles; POST: rename it."""
    brand = owned_or_404(Brand, brand_id)
    if request.method == "GET":
        return brand_page(brand)
    form = NameForm()
    if not form.validate():
        return brand_page(brand, status=400, form=form)
    if service.brand_named(g.organization, form.name.data, other_than=brand):
        form.name.errors.append(taken_message(form.name.data))
        return brand_page(brand, status=400, form=form)
    if form.name.data != brand.name:
        audit("brand.renamed", old=brand.name, new=form.name.data)
        brand.name = form.name.data
        get_session().add(brand)
        changed(get_session(), organization_id=brand.organization_id)
        get_session().commit()
    flash(_("Brand renamed to “%(name)s”.", name=brand.name), "success")
    return redirect_after_post(url_for("settings.brand", brand_id=brand.id))


@bp.route("/brands/<int:brand_id>/profiles/<int:profile_id>", methods=["POST"])
@login_required
@managers_only
def brand_profile(brand_id, profile_id):
    """Enable or disable one profile in the brand (a switch)."""
    brand = owned_or_404(Brand, brand_id)
    profile = owned_or_404(SocialProfile, profile_id)
    form = SwitchForm()
    if not form.validate():
        abort(400)
    enabled = form.enabled.data
    if service.set_in_brand(brand, profile, enabled):
        get_session().commit()
    listing = brand_listing(request.args)
    if wants_fragment():
        return render(
            "settings/brand.html",
            block="profile_row",
            brand=brand,
            profile=profile,
            listing=listing,
            enabled=service.profile_ids_in(brand, among=[profile.id]),
            brands=brands_by_profile([profile.id]),
        )
    if enabled:
        flash(_("%(profile)s is enabled in %(brand)s.", profile=profile.name, brand=brand.name), "success")
    else:
        flash(_("%(profile)s is disabled in %(brand)s.", profile=profile.name, brand=brand.name), "success")
    return redirect_after_post(url_for("settings.brand", brand_id=brand.id, **listing.query()))


@bp.route("/brands/<int:brand_id>/delete", methods=["GET", "POST"])
@login_required
@managers_only
def brand_delete(brand_id):
    """GET: a confirmation page (without JavaScript); POST: delete."""
    brand = owned_or_404(Brand, brand_id)
    form = ConfirmForm()
    if not form.is_submitted():
        return render("settings/brand_delete.html", brand=brand, profile_count=len(service.profile_ids_in(brand)),
                      form=form)
    if not form.validate():
        abort(400)
    name = brand.name
    service.delete_brand(brand)
    get_session().commit()
    flash(_("Brand “%(name)s” deleted. Its profiles are still connected.", name=name), "success")
    return redirect_after_post(url_for("settings.brands"))
