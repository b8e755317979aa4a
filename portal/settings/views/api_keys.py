"""Organization settings → API keys: the keys of the agency's own tools for
the token API (`/api/v1`). Owners and Managers. A key belongs to the agency,
not to the person who made it; its secret is shown once."""
from datetime import datetime, time, timedelta, timezone

from flask import abort, flash, g, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.api import keys
from portal.audit import audit
from portal.db import get_session
from portal.models import ApiKey
from portal.settings.forms import ApiKeyForm, ConfirmForm
from portal.settings.views import bp
from portal.tenancy import current_brands, managers_only
from portal.web import owned_or_404, redirect_after_post, render


def with_brands(form):
    form.brand.choices = [("", _("All profiles of the organization"))] + [
        (str(brand.id), _("Only those of the brand %(brand)s", brand=brand.name)) for brand in current_brands()]
    return form


def page(form=None, status=200, secret=None):
    return render("settings/api_keys.html", status=status, form=form or with_brands(ApiKeyForm(formdata=None)),
                  keys=keys.keys_of(get_session(), g.organization.id), secret=secret)


def end_of(day):
    """A key that "expires after" a day works until that day ends (UTC)."""
    return datetime.combine(day, time(), tzinfo=timezone.utc) + timedelta(days=1)


@bp.route("/api-keys", methods=["GET", "POST"])
@login_required
@managers_only
def api_keys():
    """GET: the keys; POST: a new key, whose secret this answer shows once."""
    form = with_brands(ApiKeyForm())
    if not form.is_submitted():
        return page()
    if not form.validate():
        return page(form, status=400)
    session = get_session()
    secret, key = keys.create(
        session, g.organization.id, form.name.data, form.scopes.data,
        brand_id=int(form.brand.data) if form.brand.data else None,
        expires_at=end_of(form.expires_on.data) if form.expires_on.data else None, created_by_id=current_user.id)
    audit("api_key.created", name=key.name, prefix=key.prefix, scopes=key.scopes)
    session.commit()
    return page(status=201, secret=(key, secret))


@bp.route("/api-keys/<int:key_id>/revoke", methods=["POST"])
@login_required
@managers_only
def api_key_revoke(key_id):
    key = owned_or_404(ApiKey, key_id)
    if not ConfirmForm().validate():
        abort(400)
    session = get_session()
    if keys.revoke(session, key):
        audit("api_key.revoked", name=key.name, prefix=key.prefix)
        session.commit()
        flash(_("The API key “%(name)s” no longer works.", name=key.name), "success")
    else:
        flash(_("That API key was already revoked."), "info")
    return redirect_after_post(url_for("settings.api_keys"))
