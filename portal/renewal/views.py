"""Renew Token (silently, else to the network's consent page) and a Business
Manager system user's token."""
from flask import Blueprint, abort, flash, g, request, url_for
from flask_babel import format_datetime, gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlmodel import select

from portal import app_settings
from portal.db import get_session
from portal.models import ProfileAccess, SocialProfile
from portal.networks import adapter_for, network
from portal.networks.outcomes import AppSettingsRefused, NetworkError, NotASystemUserToken, RenewNeeded, Transient
from portal.permissions import may_renew
from portal.renewal import RENEWED_FRAGMENTS, consent
from portal.renewal.credentials import current_credential, record_attempt, store_grant
from portal.renewal.silent import Result, renew_silently
from portal.tenancy import organization_required
from portal.web import owned_or_404, redirect_after_post, safe_next

bp = Blueprint("renewal", __name__)

SYSTEM_USER_REFUSED = {
    "empty": _l("Paste the token Business Manager generated for the system user."),
    "not_system_user": _l("That is not a system user's token of this app. In Business Manager, generate the token "
                          "for a system user, with this app."),
    "invalid": _l("%(network)s says this token is no longer valid. Generate a new one in Business Manager."),
    "no_access": _l("%(network)s does not let this system user reach %(name)s. In Business Manager, assign "
                    "%(name)s to the system user, then try again."),
    "unavailable": _l("%(network)s is not answering right now. Nothing changed; try again in a few minutes."),
    "app_settings": app_settings.REFUSED,
}


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
            target = request.htmx.target or ""
            for prefix, fragment in RENEWED_FRAGMENTS.items():
                if target.startswith(prefix):
                    return fragment(profile, next_url)  # green in place
            flash(_("The token of %(name)s is renewed.", name=profile.name), "success")
            return redirect_after_post(next_url)
    return redirect_after_post(consent.start(adapter, profile, next_url, user_id=current_user.id))


@bp.route("/profiles/<int:profile_id>/system-user-token", methods=["POST"])
@login_required
@organization_required
def system_user_token(profile_id):
    """Use a Business Manager system user's token for a Facebook Page or an
    Instagram business account: checked with Meta, then the profile's credential."""
    profile = owned_or_404(SocialProfile, profile_id)
    if not network(profile.network).takes_system_user_token:
        abort(404)
    if not may_renew(g.membership, access_level(profile.id)):
        abort(403)
    token, problem = request.form.get("token", "").strip(), None
    if not token:
        problem = "empty"
    else:
        try:
            tokens = adapter_for(profile.network).adopt_system_user_token(token, profile.external_id)
        except NotASystemUserToken:
            problem = "not_system_user"
        except Transient:
            problem = "unavailable"
        except AppSettingsRefused as error:
            app_settings.report(profile.network, error.detail)
            problem = "app_settings"
        except RenewNeeded:
            problem = "invalid"
        except NetworkError:
            problem = "no_access"
    if problem:
        from portal.accounts.views import profile_page

        message = SYSTEM_USER_REFUSED[problem] % {"network": network(profile.network).label, "name": profile.name}
        return profile_page(profile.id, status=400, system_user_error=message)
    session = get_session()
    credential = store_grant(session, profile, tokens, granted_by_id=current_user.id)
    record_attempt(session, profile, "system_user", "renewed", credential, current_user.id)
    session.commit()
    if credential.expires_at is None:
        flash(_("%(name)s now uses the system user's token, which does not expire.", name=profile.name), "success")
    else:
        flash(_("%(name)s now uses the system user's token, until %(when)s.", name=profile.name,
                when=format_datetime(credential.expires_at, "medium")), "success")
    return redirect_after_post(url_for("accounts.profile", profile_id=profile.id))
