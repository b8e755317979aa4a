"""Personal settings → Notifications → Token expiration: email and mobile
(web push) on or off, for all profiles or set by profile, and the warning
at sign-in; NotificationPreference rows of the current organization."""
from dataclasses import dataclass

from flask import current_app, flash, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlmodel import select

from portal.db import get_session
from portal.models import NotificationPreference, PushSubscription
from portal.notifications import bp
from portal.notify.rules import preference_for
from portal.profiles import visible_profiles
from portal.settings import service
from portal.tenancy import organization_required
from portal.web import redirect_after_post

SWITCH_ON = ("y", "on", "1", "true")


class BadPreferences(ValueError):
    """A form no page of ours would send; its message is shown."""


@dataclass(frozen=True)
class Choices:
    email: bool
    push: bool
    login_warning: bool
    by_profile: bool
    profiles: dict  # profile id -> (email, push)


def switch(form, name):
    value = form.get(name)
    if value is None:
        return False
    if value.lower() not in SWITCH_ON:
        raise BadPreferences(_("A switch of the notification settings has a value it cannot have."))
    return True


def parse(form, allowed_profile_ids):
    """The choices of the preferences form; BadPreferences on anything else."""
    scope = form.get("scope", "all")
    if scope not in ("all", "profile"):
        raise BadPreferences(_("Choose “All profiles” or “Set by profile”."))
    profiles = {}
    if scope == "profile":
        for value in form.getlist("profile"):
            if not value.isdigit() or int(value) not in allowed_profile_ids:
                raise BadPreferences(_("That profile is not one you are notified about. Reload the page and try again."))
            profile_id = int(value)
            profiles[profile_id] = (switch(form, f"email-{profile_id}"), switch(form, f"push-{profile_id}"))
    return Choices(switch(form, "email"), switch(form, "push"), switch(form, "login_warning"),
                   scope == "profile", profiles)


def own_preferences():
    return get_session().exec(
        select(NotificationPreference).where(NotificationPreference.user_id == current_user.id,
                                             NotificationPreference.organization_id == g.organization.id)
    ).all()


def renewable_rows():
    """The profiles the person hears about: those they may renew."""
    rows = [row for row in visible_profiles(g.membership, g.organization) if row.renew]
    return sorted(rows, key=lambda row: row.profile.name.lower())


def save(choices):
    session = get_session()
    existing = {p.profile_id: p for p in own_preferences()}
    general = existing.get(None) or NotificationPreference(user_id=current_user.id, organization_id=g.organization.id)
    general.email, general.push, general.login_warning = choices.email, choices.push, choices.login_warning
    session.add(general)
    keep = set(choices.profiles) if choices.by_profile else set()
    for profile_id, preference in existing.items():
        if profile_id is not None and profile_id not in keep:
            session.delete(preference)
    for profile_id, (email, push) in choices.profiles.items():
        row = existing.get(profile_id) or NotificationPreference(
            user_id=current_user.id, organization_id=g.organization.id, profile_id=profile_id)
        row.email, row.push = email, push
        session.add(row)


@bp.app_context_processor
def notification_settings_context():
    return {"notification_settings": notification_settings}


def notification_settings():
    """What the Notifications section of Personal settings shows."""
    if g.get("organization") is None:
        return None
    preferences = own_preferences()
    general = next((p for p in preferences if p.profile_id is None), None)
    overrides = {p.profile_id for p in preferences if p.profile_id is not None}
    highlight = request.args.get("profile", type=int)
    rows = [(row, preference_for(preferences, row.profile.id)) for row in renewable_rows()]
    subscriptions = get_session().exec(
        select(PushSubscription.id).where(PushSubscription.user_id == current_user.id)
    ).all()
    return {
        "email": general.email if general else True,
        "push": general.push if general else False,
        "login_warning": general.login_warning if general else True,
        "by_profile": bool(overrides) or any(row.profile.id == highlight for row, _ in rows),
        "rows": rows,
        "highlight": highlight,
        "error": g.get("preference_error"),
        "vapid_public_key": current_app.config["VAPID_PUBLIC_KEY"],
        "subscribed_browsers": len(subscriptions),
    }


@bp.route("/settings/personal/notifications", methods=["POST"])
@login_required
@organization_required
def preferences():
    allowed = {row.profile.id for row in renewable_rows()}
    try:
        choices = parse(request.form, allowed)
    except BadPreferences as error:
        from portal.settings.views import personal_page

        g.preference_error = str(error)
        return personal_page(status=400)
    save(choices)
    service.audit("user.settings_changed", "token expiration notifications")
    get_session().commit()
    flash(_("Notification settings saved."), "success")
    return redirect_after_post(url_for("settings.personal") + "#notifications")
