"""The one normalisation of an email address: how it is keyed, compared and stored.

Built on email-validator's: the local part in Unicode NFC and lower-cased, the domain in its
Unicode spelling (IDNA-decoded and lower-cased), so `Édith@Exämple.com` in NFC or NFD and
`édith@xn--exmple-cua.com` are one address, `édith@exämple.com`. Lower-casing the local part
goes beyond RFC 5321, which lets a server tell cases apart; no mail provider people sign in
with does, and one person must not be two users.
"""

import unicodedata
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    """Not a syntactically valid email address."""


# Every login normalises the email its provider vouches for, mostly the same few thousand:
# email-validator's checks cost ~40 µs a call. (A refusal raises each time; it is not kept.)
@lru_cache(maxsize=4096)
def normalise_email(value: str) -> str:
    """`value` in its one canonical spelling, if it is a valid address; else `InvalidEmail`."""
    try:
        validated = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidEmail(value.strip()) from None
    local = unicodedata.normalize("NFC", validated.local_part.lower())
    return f"{local}@{validated.domain}"
