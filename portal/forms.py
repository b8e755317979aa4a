"""The base of every form, and validators they share."""
from email_validator import EmailNotValidError, validate_email
from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, _is_submitted as is_submitted
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from portal.text import one_line

# The languages of Keepalive's pages and emails, each in its own name.
LANGUAGES = [SelectChoice("en", "English"), SelectChoice("fr", "Français"), SelectChoice("de", "Deutsch"),
             SelectChoice("nl", "Nederlands")]


class Form(FlaskForm):
    """A Flask-WTF form that reads the fields of a form body only.

    Flask-WTF would take a JSON body, or an uploaded file, for the form's
    fields, with values of types no field expects; no page sends either, so
    such a request is an empty form, refused by its validators (a 400).
    """

    class Meta:
        def wrap_formdata(self, form, formdata):
            if formdata is _Auto:  # read from this request, if it was sent
                return (request.form or None) if is_submitted() else None
            return formdata


def one_line_name(value):
    """A name typed into a form (an agency's, a person's, a brand's, a key's),
    on one line as the networks' names are (`portal.text.one_line`): names
    go into email headers and every list."""
    return one_line(value) if isinstance(value, str) else value


def normalized_email(value):
    """The address as stored (lower-cased); ValueError for one that is not an address."""
    try:
        result = validate_email(value or "", check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValueError(value) from None
    return result.normalized.lower()


class EmailAddress:
    """A syntactically valid address, stored lower-cased.

    `test_environment` admits the reserved `.test` domain, which the demo and
    the tests use; no deliverability look-up is made.
    """

    def __call__(self, form, field):
        try:
            field.data = normalized_email(field.data)
        except ValueError:
            raise ValidationError(_l("Enter an email address like name@example.com.")) from None
