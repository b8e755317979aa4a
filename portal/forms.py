"""Validators shared by every form."""
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError


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
