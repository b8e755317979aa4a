from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.auth.passwords import MAX_LENGTH, MIN_LENGTH
from portal.forms import EmailAddress, Form


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


def _new_password_fields():
    """A new password and its confirmation, checked the same way everywhere."""
    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=MIN_LENGTH,
                max=MAX_LENGTH,
                message=_l("Use between %(min)d and %(max)d characters.", min=MIN_LENGTH, max=MAX_LENGTH),
            ),
        ],
    )
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

    name = StringField(
        _l("Your name"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=120, message=_l("A name has at most 120 characters.")),
        ],
    )
    password, confirm = _new_password_fields()


class AcceptInvitationForm(Form):
    """Nothing to fill in: the button and its CSRF token."""
