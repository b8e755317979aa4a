"""Token expiration notices as a person chooses them: email and mobile (web
push) on or off, for all profiles or set by profile, and the warning at
sign-in; NotificationPreference rows of the current organization. The form
is on the Personal settings page (`portal.settings.views.personal`).

The choices for all profiles are one row; a profile has a row of its own
only while its choice differs from them. "Set by profile" lists the profiles
the person may renew 50 at a time, searchable; its Search, Previous and Next
buttons save the form before they move, so no change is lost on the way.
"""
from dataclasses import dataclass

from flask import g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, func, or_
from sqlmodel import select

from portal.db import get_session
from portal.models import NotificationPreference, PushSubscription, SocialProfile
from portal.notifications.rules import preference_for
from portal.numbers import whole_number
from portal.paging import PER_PAGE, page_of
from portal.profiles import Scope, renewable

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


def parse(form, allowed_profile_ids, push_available=True):
    """The choices of the preferences form; BadPreferences on anything else.
    Mobile notifications stay off where the server has no keys for them."""
    scope = form.get("scope", "all")
    if scope not in ("all", "profile"):
        raise BadPreferences(_("Choose “All profiles” or “Set by profile”."))
    profiles = {}
    if scope == "profile":
        for value in form.getlist("profile"):
            profile_id = whole_number(value)
            if profile_id not in allowed_profile_ids:
                raise BadPreferences(_("That profile is not one you are notified about. Reload the page and try again."))
            profiles[profile_id] = (switch(form, f"email-{profile_id}"),
                                    switch(form, f"push-{profile_id}") and push_available)
    return Choices(switch(form, "email"), switch(form, "push") and push_available, switch(form, "login_warning"),
                   scope == "profile", profiles)


def destination(form):
    """Where the person goes once the form is saved: (text, page number) of
    the profiles to list, and whether they asked to save or only to move."""
    text, page = form.get("notify_q", "").strip(), form.get("notify_page", "1")
    go = form.get("go", "save")
    if go.startswith("page-"):
        page = go.removeprefix("page-")
    elif go == "search":
        page = "1"
    elif go != "save":
        page = ""  # no button of the form says that
    number = whole_number(page)
    if number is None:
        raise BadPreferences(_("That button is not part of this form. Reload the page and try again."))
    return text, number, go == "save"


def own_preferences():
    return get_session().exec(
        select(NotificationPreference).where(NotificationPreference.user_id == current_user.id,
                                             NotificationPreference.organization_id == g.organization.id)
    ).all()


def stored(preference):
    if preference.profile_id is None:
        return preference.email, preference.push, preference.login_warning
    return preference.email, preference.push


def wanted(existing, choices):
    """{profile id, None for all profiles: what its row should hold} after
    `choices`, from `existing` rows by profile id: a profile shown whose
    choice is that of all profiles follows them, one not shown keeps its row."""
    rows = {None: (choices.email, choices.push, choices.login_warning)}
    if choices.by_profile:
        rows.update((profile_id, stored(row)) for profile_id, row in existing.items() if profile_id is not None)
        for profile_id, choice in choices.profiles.items():
            if choice == (choices.email, choices.push):
                rows.pop(profile_id, None)
            else:
                rows[profile_id] = choice
    return rows


def save(choices):
    """Store `choices`; whether that changed anything."""
    session = get_session()
    existing = {preference.profile_id: preference for preference in own_preferences()}
    rows = wanted(existing, choices)
    if rows == {profile_id: stored(row) for profile_id, row in existing.items()}:
        return False
    for profile_id, preference in existing.items():
        if profile_id not in rows:
            session.delete(preference)
    for profile_id, values in rows.items():
        preference = existing.get(profile_id) or NotificationPreference(
            user_id=current_user.id, organization_id=g.organization.id, profile_id=profile_id)
        if profile_id is None:
            preference.email, preference.push, preference.login_warning = values
        else:
            preference.email, preference.push = values
        session.add(preference)
    return True


def renewable_ids(values):
    """Which of the profile ids in `values` (strings) the person may renew."""
    ids = tuple(number for number in map(whole_number, values) if number is not None)
    if not ids:
        return set()
    return set(get_session().exec(
        renewable(g.membership, g.organization, SocialProfile.id, scope=Scope(ids=ids))).all())


def page_holding(profile_id, text):
    """The number of the page listing `profile_id` (None: it is not listed)."""
    scope = Scope(text=text)
    name = func.lower(SocialProfile.name)  # the database's lower(), as the list is sorted by
    its_name = get_session().exec(
        renewable(g.membership, g.organization, name, scope=Scope(text=text, ids=(profile_id,)))).first()
    if its_name is None:
        return None
    before = get_session().exec(
        renewable(g.membership, g.organization, func.count(), scope=scope)
        .where(or_(name < its_name, and_(name == its_name, SocialProfile.id < profile_id)))
    ).one()
    return before // PER_PAGE + 1


def listed_profiles(text, number):
    """The page `number` of the profiles the person may renew, matching
    `text`, by name."""
    return page_of(renewable(g.membership, g.organization, SocialProfile, scope=Scope(text=text))
                   .order_by(func.lower(SocialProfile.name), SocialProfile.id), number)


def section(text, number, highlight=None):
    """What the Notifications section of Personal settings shows: the
    person's choices, and the page `number` of the profiles they may renew
    matching `text` (the page holding `highlight`, a profile id, if given)."""
    preferences = own_preferences()
    general = next((p for p in preferences if p.profile_id is None), None)
    overrides = {p.profile_id for p in preferences if p.profile_id is not None}
    if highlight is not None:
        number = page_holding(highlight, text) or number
    page = listed_profiles(text, number)
    subscriptions = get_session().exec(
        select(PushSubscription.id).where(PushSubscription.user_id == current_user.id)
    ).all()
    return {
        "email": general.email if general else True,
        "push": general.push if general else False,
        "login_warning": general.login_warning if general else True,
        "by_profile": bool(overrides) or any(profile.id == highlight for profile in page.items),
        "rows": [(profile, preference_for(preferences, profile.id), profile.id in overrides)
                 for profile in page.items],
        "page": page,
        "text": text,
        "searchable": bool(text) or page.pages > 1,
        "highlight": highlight,
        "subscribed_browsers": len(subscriptions),
    }
