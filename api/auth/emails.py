"""The one normalisation of an email address: how it is keyed, compared and stored."""

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """Not a syntactically valid email address."""


def normalise_email(value: str) -> str:
    """`value` trimmed and lower-cased, if it is a valid address; else `InvalidEmail`."""
    email = value.strip().lower()
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail(email) from None
    return email
