"""Reading sign-in messages as their recipient would: the code and the link out of the text."""

import re
from email.message import EmailMessage

_CODE = re.compile(r"^([0-9]{6})$", re.MULTILINE)
_LINK = re.compile(r"^(https?://\S+/auth/email/verify\?token=\S+)$", re.MULTILINE)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "the message has no plain-text part"
    content: str = body.get_content()
    return content


def code_of(message: EmailMessage) -> str:
    """The six-digit code on a line of its own."""
    found = _CODE.search(text_of(message))
    assert found is not None, "no code in the message"
    return found[1]


def link_of(message: EmailMessage) -> str:
    """The sign-in link."""
    found = _LINK.search(text_of(message))
    assert found is not None, "no link in the message"
    return found[1]


def token_of(link: str) -> str:
    return link.partition("?token=")[2]
