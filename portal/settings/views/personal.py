"""Switching organization and brand, and personal settings (every signed-in user)."""
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import abort, current_app, flash, g, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from portal import timezones
from portal.audit import audit
from portal.auth import sessions
from portal.auth.passwords import hash_password, verify_password
from portal.db import get_session
from portal.models import Brand
from portal.notifications import preferences
from portal.notifications.wording import thresholds_text
from portal.numbers import whole_number
from portal.paging import page_number
from portal.settings.forms import LANGUAGE_CHOICES, PasswordForm, PersonalForm
from portal.settings.views import bp
from portal.tenancy import organization_required
from portal.versions import changed_for_user
from portal.web import redirect_after_post, render, safe_next


@bp.route("/switch", methods=["POST"])
@login_required
def switch():
    """Choose the organization and brand to work in (the header switcher)."""
    organization_id = whole_number(request.form.get("organization_id"))
    memberships = {organization.id for _, organization in g.memberships}
    if organization_id not in memberships:
        abort(404)
    # Compared with the organization in use, which is the first one until
    # the person picks another (the session may not name it yet).
    if organization_id != g.organization.id:
        session["organization_id"] = organization_id
        session.pop("brand_id", None)
    else:
        session["organization_id"] = organization_id
        # Only a brand of that organization; anything else means "all brands".
        brand_id = whole_number(request.form.get("brand_id"))
        brand = get_session().exec(
            select(Brand).where(Brand.id == brand_id, Brand.organization_id == organization_id)
        ).first() if brand_id else None
        session["brand_id"] = brand.id if brand else None
    return redirect_after_post(without_brand(safe_next(request.form.get("next"), url_for("home.index"))))


def without_brand(url):
    """`url` without a `brand` of its own, so that the page shows the brand just chosen."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "brand"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def personal_page(status=200, personal_form=None, password_form=None, preferences_error=None):
    return render(
        "settings/personal.html",
        status=status,
        personal_form=personal_form or PersonalForm(formdata=None, name=current_user.name,
                                                    locale=current_user.locale or "",
                                                    timezone=current_user.timezone or ""),
        password_form=password_form or PasswordForm(formdata=None),
        prefs=notifications_section(preferences_error),
    )


def notifications_section(error=None):
    """What the Notifications section shows (None outside an organization):
    the listing of "Set by profile" follows the page's query string, or the
    form that was sent."""
    if g.get("organization") is None:
        return None
    values = request.values
    section = preferences.section(values.get("notify_q", "").strip(), page_number(values.get("notify_page")),
                                  highlight=whole_number(request.args.get("profile")))
    section.update(error=error, vapid_public_key=current_app.config["VAPID_PUBLIC_KEY"],
                   thresholds=thresholds_text(g.organization.thresholds))
    return section


@bp.route("/personal", methods=["GET", "POST"])
@login_required
def personal():
    """Name and language."""
    if request.method == "GET":
        return personal_page()
    form = PersonalForm()
    if not form.validate():
        return personal_page(status=400, personal_form=form)
    user = current_user._get_current_object()
    if user.name != (form.name.data or ""):
        changed_for_user(get_session(), user.id)  # "by <name>" on the pages of every organization
    user.name = form.name.data or ""
    user.locale = form.locale.data or None
    zone_changed = user.timezone != (form.timezone.data or None)
    user.timezone = form.timezone.data or None
    get_session().add(user)
    audit("user.settings_changed", personal=True, setting="language", value=user.locale or "")
    if zone_changed:
        audit("user.settings_changed", personal=True, setting="time_zone", value=user.timezone or "")
    get_session().commit()
    flash(_("Personal settings saved."), "success")
    return redirect_after_post(url_for("settings.personal"))


@bp.route("/personal/browser-timezone", methods=["POST"])
@login_required
def browser_timezone():
    """The browser's time zone, sent once by `static/js/timezone.js` while the
    person has chosen none: it never replaces a zone they chose."""
    name = request.form.get("timezone", "")
    if not timezones.known(name):
        abort(400, _("That is not a time zone Keepalive knows."))
    user = current_user._get_current_object()
    if user.timezone is None:
        user.timezone = name
        get_session().add(user)
        get_session().commit()
    return "", 204


@bp.route("/personal/password", methods=["POST"])
@login_required
def password():
    """A new password; every other session of the user ends, this one stays."""
    form = PasswordForm()
    if not form.validate():
        return personal_page(status=400, password_form=form)
    user = current_user._get_current_object()
    if not verify_password(user, form.current_password.data):
        form.current_password.errors.append(_("That is not your current password."))
        return personal_page(status=400, password_form=form)
    user.password_hash = hash_password(form.new_password.data)
    user.session_version += 1
    get_session().add(user)
    audit("user.password_changed", personal=True)
    get_session().commit()
    # Every session of an older version has ended: this one goes on under the new one.
    sessions.restart(user)
    flash(_("Password changed. Other devices and browsers are signed out."), "success")
    return redirect_after_post(url_for("settings.personal"))


@bp.route("/personal/notifications", methods=["POST"])
@login_required
@organization_required
def notification_preferences():
    """The Notifications section's form: saved, then back to the section
    (or to the page of "Set by profile" that its Search, Previous or Next asked for)."""
    try:
        text, number, asked_to_save = preferences.destination(request.form)
        choices = preferences.parse(request.form, preferences.renewable_ids(request.form.getlist("profile")),
                                    push_available=bool(current_app.config["VAPID_PUBLIC_KEY"]))
    except preferences.BadPreferences as error:
        return personal_page(status=400, preferences_error=str(error))
    changed = preferences.save(choices)
    if changed:
        audit("user.settings_changed", setting="notifications")
        get_session().commit()
    if changed or asked_to_save:
        flash(_("Notification settings saved."), "success")
    listing = {"notify_q": text or None, "notify_page": number if number > 1 else None}
    anchor = "#notifications" if asked_to_save else "#notify-by-profile"
    return redirect_after_post(url_for("settings.personal", **listing) + anchor)


@bp.app_context_processor
def language_menu():
    """The choices of the header's language menu, each language in its own name."""
    return {"language_choices": LANGUAGE_CHOICES}


@bp.route("/language", methods=["POST"])
@login_required
def language():
    """The header's language menu: one of the portal's languages, or "" to follow the browser."""
    choice = request.form.get("locale")
    if choice is None or (choice and choice not in current_app.config["LANGUAGES"]):
        abort(400, _("Choose a language from the menu."))
    user = current_user._get_current_object()
    user.locale = choice or None
    get_session().add(user)
    audit("user.settings_changed", personal=True, setting="language", value=user.locale or "")
    get_session().commit()
    return redirect_after_post(safe_next(request.form.get("next"), url_for("home.index")))
