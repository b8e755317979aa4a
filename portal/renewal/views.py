"""Renew Token: silently, else on the network's consent page; and Check now.
They render no page: they answer with a redirect to the page or fragment
their form names."""
from datetime import timedelta
from types import SimpleNamespace

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select

from portal import app_settings, attempts
from portal.db import get_session
from portal.models import ProfileAccess, SocialProfile
from portal.networks import adapter_for, network
from portal.networks.outcomes import NetworkError, Transient
from portal.permissions import may_renew
from portal.renewal import consent
from portal.queue import queue
from portal.renewal.credentials import current_credential
from portal.renewal.health import check_credential
from portal.renewal.silent import SECOND_LOOK_SECONDS, RecheckLater, Result, renew_silently
from portal.templating import format_datetime, reason_text
from portal.tenancy import organization_required
from portal.web import app_path, owned_or_404, redirect_after_post, safe_next

bp = Blueprint("renewal", __name__)


def access_level(profile_id):
    return get_session().exec(
        select(ProfileAccess.level).where(
            ProfileAccess.profile_id == profile_id, ProfileAccess.user_id == current_user.id
        )
    ).first()


@bp.route("/profiles/<int:profile_id>/renew", methods=["POST"])
@login_required
@organization_required
def renew(profile_id):
    """Renew silently when the network allows it, else go to its consent page."""
    profile = owned_or_404(SocialProfile, profile_id)
    decision = may_renew(g.membership, access_level(profile.id))
    if not decision:
        abort(403)
    next_url = safe_next(request.form.get("next"), url_for("home.index"))
    credential = current_credential(get_session(), profile.id)
    if credential is not None and credential.is_system_user_token and request.form.get("by") != "consent":
        # The agency chose a token that belongs to no person: a new one comes from Business Manager.
        flash(_("%(name)s uses a system user's token: generate a new one in Business Manager and paste it below, "
                "or renew with a person's account.", name=profile.name), "info")
        return redirect_after_post(url_for("accounts.profile", profile_id=profile.id) + "#system-user")
    adapter = adapter_for(profile.network)
    # The renewal takes its own lock on the credential: this request's
    # transaction (which holds SQLite's write lock) must end first; a commit
    # ends it without expiring what was read.
    get_session().commit()
    # `by=consent`: a person's consent is asked for, not a silent renewal.
    if credential is not None and not credential.is_invalid and request.form.get("by") != "consent":
        try:
            outcome = renew_silently(profile.id, adapter, seen_version=credential.version, force=True,
                                     user_id=current_user.id)
        except Transient:
            outcome = None  # the network is busy: a consent may still work
        if outcome is not None and outcome.result == Result.APP_SETTINGS:
            # A consent would be refused for the same reason: say so now.
            flash(app_settings.REFUSED % {"network": network(profile.network).label}, "error")
            return redirect_after_post(next_url)
        if outcome is not None and outcome.renewed:
            flash(_("The token of %(name)s is renewed.", name=profile.name), "success")
            return renewed_response(next_url)
    return redirect_after_post(consent.start(adapter, profile, next_url, user_id=current_user.id))


def renewed_response(next_url):
    """After a silent renewal: for htmx, a redirect to the fragment URL the
    form names (`fragment`, a path of this app), which shows what was renewed
    in place, with the message just flashed; otherwise the next page."""
    fragment = app_path(request.form.get("fragment"))
    if request.htmx and fragment:
        response = redirect(fragment, 303)
        response.vary.add("HX-Request")
        return response
    return redirect_after_post(next_url)


# "Check now" of one profile, at most this often: a person's click is one
# more call to the network, counted in its rate limits.
CHECKS_PER_PROFILE = "1 per 10 seconds"
CHECKED = {
    "ok": (_l("%(network)s says the token of %(name)s works."), "success"),
    "renewed": (_l("%(network)s says the token of %(name)s works: its access was refreshed."), "success"),
    "refreshed": (_l("%(network)s says the token of %(name)s works: its access was refreshed."), "success"),
    "invalid": (_l("%(network)s says the token of %(name)s no longer works: %(reason)s. Renew it."), "error"),
    "skipped": (_l("The token of %(name)s is already known not to work: renew it."), "info"),
    "recheck": (_l("%(network)s gave a doubtful answer about %(name)s: Keepalive asks again in a few seconds."),
                "info"),
    "unavailable": (_l("%(network)s is not answering right now. Nothing changed; try again in a few minutes."),
                    "error"),
    "unexpected": (_l("%(network)s answered in a way Keepalive does not know. Nothing changed."), "error"),
    "app_settings": (app_settings.REFUSED, "error"),
    "too_soon": (_l("%(name)s was checked moments ago: try again in a few seconds."), "info"),
}


@bp.route("/profiles/<int:profile_id>/check", methods=["POST"])
@login_required
@organization_required
def check(profile_id):
    """Check now: ask the network whether the profile's token works (the
    health check the scheduler runs every day), and say what it answered."""
    profile = owned_or_404(SocialProfile, profile_id)
    if not may_renew(g.membership, access_level(profile.id)):
        abort(403)
    next_url = safe_next(request.form.get("next"), url_for("accounts.profile", profile_id=profile.id))
    if attempts.count(CHECKS_PER_PROFILE, "check-now", profile.id):
        outcome = "too_soon"
    else:
        get_session().commit()  # the check takes its own lock on the credential
        outcome = check_now(profile)
    message, category = CHECKED[outcome]
    reason = None
    if outcome == "invalid":
        dead = current_credential(get_session(), profile.id)
        reason = reason_text(SimpleNamespace(reason=dead.invalid_reason if dead else None), profile.network)
    flash(str(message) % {"network": network(profile.network).label, "name": profile.name, "reason": reason},
          category)
    return redirect_after_post(next_url)


def check_now(profile):
    """The health check of one profile, now: its outcome (`health.check_credential`),
    or why there is none yet."""
    try:
        return check_credential(profile.id, adapter_for(profile.network))
    except RecheckLater:
        queue().enqueue_in(timedelta(seconds=SECOND_LOOK_SECONDS), "jobs.renewal.check_profile", profile.id, True)
        return "recheck"
    except Transient:
        return "unavailable"
    except NetworkError:
        return "unexpected"

