"""The forms of the settings pages."""
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice
from wtforms import (BooleanField, DateField, EmailField, IntegerField, PasswordField, SelectField,
                     SelectMultipleField, StringField)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional, ValidationError

from portal import timezones
from portal.auth.passwords import MIN_LENGTH
from portal.forms import LANGUAGES, EmailAddress, Form, one_line_name
from portal.models import ApiScope, Role
from portal.settings.rules import (
    MAX_THRESHOLD_DAYS,
    MAX_WINDOW_DAYS,
    MIN_WINDOW_DAYS,
    ThresholdError,
    format_thresholds,
    parse_thresholds,
)

ROLE_LABELS = {Role.OWNER.value: _l("Owner"), Role.MANAGER.value: _l("Manager"), Role.MEMBER.value: _l("Member")}
ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]
# Each language in its own name; "" keeps following the browser.
LANGUAGE_CHOICES = [SelectChoice("", _l("Browser default")), *LANGUAGES]


class InviteForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254), EmailAddress()])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.MEMBER.value)
    can_manage_profiles = BooleanField(_l("Manage social profiles"))


class ConfirmForm(Form):
    """Only the CSRF token: a button that does one thing."""


class ManageProfilesForm(Form):
    can_manage_profiles = BooleanField(_l("Manage social profiles"))


class SwitchForm(Form):
    """An on/off switch: a button that submits the state it turns on."""

    enabled = BooleanField()


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)


class NameForm(Form):
    """A brand's name (create and rename)."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[one_line_name])


class Thresholds:
    """"7,3,1,0": whole days 0–90; normalised to unique, descending."""

    MESSAGES = {
        "empty": _l("Enter at least one day, for example 7,3,1,0."),
        "not_a_number": _l("“%(part)s” is not a whole number of days. Use numbers separated by commas, like 7,3,1,0."),
        "out_of_range": _l("“%(part)s” is out of range: each day must be between 0 and %(max)d."),
    }

    def __call__(self, form, field):
        try:
            days = parse_thresholds(field.data)
        except ThresholdError as error:
            key, part = error.args
            raise ValidationError(str(self.MESSAGES[key]) % {"part": part, "max": MAX_THRESHOLD_DAYS}) from None
        field.data = format_thresholds(days)


class OrganizationForm(Form):
    name = StringField(_l("Organization name"), validators=[DataRequired(), Length(max=120)],
                       filters=[one_line_name])
    expiry_window_days = IntegerField(
        _l("Expiry window (days)"),
        validators=[
            InputRequired(_l("Enter a whole number of days.")),
            NumberRange(MIN_WINDOW_DAYS, MAX_WINDOW_DAYS,
                        _l("Choose between %(min)s and %(max)s days.")),
        ],
    )
    notification_thresholds = StringField(
        _l("Notify this many days before expiry"),
        validators=[Length(max=120), Thresholds()],
    )


def timezone_choices():
    """"" first: the browser's zone, taken at the next page; then every zone by its IANA name."""
    return [SelectChoice("", _l("Your browser's time zone")),
            *(SelectChoice(name, name.replace("_", " ")) for name in timezones.names())]


class PersonalForm(Form):
    name = StringField(_l("Name"), validators=[Length(max=120)], filters=[one_line_name])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="")
    timezone = SelectField(_l("Time zone"), choices=timezone_choices, default="")


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(min=MIN_LENGTH, max=1024, message=_l("Use at least %(min)d characters.")),
        ],
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", _l("The two new passwords do not match."))],
    )


SCOPE_LABELS = {
    ApiScope.PROFILES_READ: _l("Read the profiles and the state of their tokens"),
    ApiScope.TOKENS_READ: _l("Read live tokens, and report tokens a network refused"),
    ApiScope.LINKS_WRITE: _l("Send renewal links"),
}


class ApiKeyForm(Form):
    """A new API key. `brand.choices` are set by the view: the organization's brands."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       filters=[one_line_name])
    scopes = SelectMultipleField(
        _l("What the key may do"), choices=[SelectChoice(str(scope), label) for scope, label in SCOPE_LABELS.items()],
        default=[str(scope) for scope in SCOPE_LABELS],
        validators=[DataRequired(_l("Choose at least one thing the key may do."))],
    )
    brand = SelectField(_l("Profiles"), default="")
    expires_on = DateField(_l("Expires after (optional)"), validators=[Optional()])

    def validate_expires_on(self, field):
        if field.data is not None and field.data < datetime.now(timezone.utc).date():
            raise ValidationError(_l("Choose today or a later day, or leave it empty for a key that does not expire."))
