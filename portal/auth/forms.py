from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.auth.passwords import MAX_LENGTH, MIN_LENGTH
from portal.forms import EmailAddress, Form, one_line_name


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _email_field():
    return EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("An email address has at most 254 characters.")),
            EmailAddress(),
        ],
    )


def _new_password_field(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=_l("Use between %(min)d and %(max)d characters.", min=MIN_LENGTH, max=MAX_LENGTH),
            ),
        ],
    )


def _name_field(label, required_message):
    return StringField(
        label,
        filters=[one_line_name],
        validators=[
            DataRequired(required_message),
            Length(max=120, message=_l("A name has at most 120 characters.")),
        ],
    )


def _new_password_fields():
    """A new password and its confirmation, checked the same way everywhere."""
    password = _new_password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Type the password a second time.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )
    return password, confirm


class LoginForm(Form):
    email = _email_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=MAX_LENGTH, message=_l("That password is too long.")),
        ],
    )
    remember = BooleanField(_l("Keep me signed in"))


class ResetRequestForm(Form):
    email = _email_field()


class NewPasswordForm(Form):
    password, confirm = _new_password_fields()


class NewAccountForm(Form):
    """The account an invited person creates while accepting."""

    name = _name_field(_l("Your name"), _l("Enter your name."))
    password, confirm = _new_password_fields()


class AcceptInvitationForm(Form):
    """Nothing to fill in: the button and its CSRF token."""


class SignupForm(Form):
    """"Create your agency": the agency and its first Owner."""

    agency_name = _name_field(_l("Agency name"), _l("Enter the name of your agency."))
    name = _name_field(_l("Your name"), _l("Enter your name."))
    email = _email_field()
    password = _new_password_field(_l("Password"))


class ConfirmSignupForm(Form):
    """Nothing to fill in: the button and its CSRF token."""
