"""Invite a client to connect: the form, and the agency's invitations,
pending, used and expired, each withdrawn or sent again."""
from flask import abort, current_app, flash, g, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user, login_required
from sqlmodel import select
from wtforms import EmailField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal import attempts
from portal.connect import invitations, rules
from portal.connect.views import bp
from portal.connect.views.choose import connecting_allowed
from portal.db import get_session, utcnow
from portal.forms import LANGUAGES, EmailAddress, Form
from portal.models import Brand, ConnectInvitation
from portal.networks import NETWORKS
from portal.paging import page_number
from portal.tenancy import current_brands, organization_required
from portal.web import owned_or_404, redirect_after_post, render


class InviteForm(Form):
    networks = SelectMultipleField(
        _l("Networks to connect"), widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Choose at least one network."))],
    )
    email = EmailField(_l("Client's email address"), filters=[lambda v: v.strip() if isinstance(v, str) else v],
                       validators=[DataRequired(_l("Enter the client's email address.")),
                                   Length(max=254, message=_l("An email address has at most 254 characters.")),
                                   EmailAddress()])
    message = TextAreaField(_l("Message (optional)"), validators=[Length(
        max=rules.MESSAGE_LENGTH, message=_l("A message has at most %(max)d characters.", max=rules.MESSAGE_LENGTH))])
    brand = SelectField(_l("Brand of the profiles"), validate_choice=False)
    days = SelectField(_l("The link works for"), default=str(rules.DEFAULT_LIFETIME), validate_choice=False)
    language = SelectField(_l("Language of the email and the client's pages"), choices=LANGUAGES)

    def fill_choices(self, brands):
        self.networks.choices = [SelectChoice(item.key, item.label) for item in NETWORKS.values()]
        self.brand.choices = [SelectChoice("", _("No brand"))] + [SelectChoice(str(brand.id), brand.name)
                                                                   for brand in brands]
        self.days.choices = [SelectChoice(str(days), ngettext("%(num)d day", "%(num)d days", days))
                             for days in rules.LIFETIMES]

    def validate_brand(self, field):
        if field.data and field.data not in {choice.value for choice in self.brand.choices}:
            raise ValidationError(_("That brand does not exist in this organization. Choose one from the list."))

    def validate_days(self, field):
        if field.data not in {str(days) for days in rules.LIFETIMES}:
            raise ValidationError(_("Choose how long the link works from the list."))


@bp.route("/accounts/connect/invite", methods=["GET", "POST"])
@login_required
@organization_required
def invite():
    connecting_allowed()
    form = InviteForm()
    form.fill_choices(current_brands())
    if request.method == "GET":
        locale = str(get_locale() or "")
        form.language.data = locale if locale in current_app.config["LANGUAGES"] else "en"
        form.networks.data = [key for key in request.args.getlist("network") if key in NETWORKS]
        return render("connect/invite.html", form=form)
    if not form.validate_on_submit():
        return render("connect/invite.html", form=form, status=400)
    retry_after = attempts.count(f"{rules.INVITATIONS_PER_HOUR} per hour", "connect-invitations", current_user.id)
    if retry_after:
        response = render("connect/invite.html", form=form, refused=True, status=429)
        response.headers["Retry-After"] = str(retry_after)
        return response
    db = get_session()
    brand = db.exec(select(Brand).where(Brand.organization_id == g.organization.id,
                                        Brand.id == int(form.brand.data))).first() if form.brand.data else None
    invitation = invitations.invite(db, g.organization, current_user, form.email.data, form.networks.data,
                                    form.message.data or "", brand, int(form.days.data), form.language.data)
    flash(_("An invitation to connect is on its way to %(email)s.", email=invitation.email), "success")
    return redirect_after_post(url_for("connect.invitation_list"))


@bp.route("/accounts/connect/invitations")
@login_required
@organization_required
def invitation_list():
    connecting_allowed()
    page = invitations.listing(g.organization.id, page_number(request.args.get("page")))
    now = utcnow()
    return render("connect/invitations.html", page=page, states={inv.id: rules.state(inv, now) for inv, _ in page.items},
                  may_send_again=lambda inv: rules.may_send_again(inv, now),
                  brands={brand.id: brand for brand in current_brands()})


def own_invitation(invitation_id):
    connecting_allowed()
    return owned_or_404(ConnectInvitation, invitation_id)


@bp.route("/accounts/connect/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
@organization_required
def invitation_revoke(invitation_id):
    invitation = own_invitation(invitation_id)
    if invitations.revoke(get_session(), invitation, current_user):
        flash(_("The invitation sent to %(email)s no longer works.", email=invitation.email), "success")
    else:
        flash(_("That invitation was already used, withdrawn or expired."), "info")
    return redirect_after_post(url_for("connect.invitation_list"))


@bp.route("/accounts/connect/invitations/<int:invitation_id>/send-again", methods=["POST"])
@login_required
@organization_required
def invitation_send_again(invitation_id):
    invitation = own_invitation(invitation_id)
    if not rules.may_send_again(invitation, utcnow()):
        flash(_("A used or withdrawn invitation is not sent again: invite the client anew."), "info")
        return redirect_after_post(url_for("connect.invitation_list"))
    retry_after = attempts.count(f"{rules.INVITATIONS_PER_HOUR} per hour", "connect-invitations", current_user.id)
    if retry_after:
        abort(429)
    invitations.send_again(get_session(), invitation, g.organization, current_user)
    flash(_("The invitation is on its way to %(email)s again, with a new link.", email=invitation.email),
          "success")
    return redirect_after_post(url_for("connect.invitation_list"))
