"""The message that carries a sign-in code and link: plain text and HTML, built by the standard
library, whose SMTP policy refuses any header that would let a value start another one."""

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid
from html import escape

from email_validator import validate_email

TEXT = """\
Your code for signing in to {site}:

{code}

Or open this link to sign in:
{link}

The code and the link work once, within {lifetime}.

If this wasn't you, ignore this message: nobody can sign in without the code or the link.
"""

HTML = """\
<!doctype html>
<html lang="en"><body style="font: 16px/1.5 system-ui, sans-serif">
<p>Your code for signing in to {site}:</p>
<p style="font-size: 2em; letter-spacing: .2em"><strong>{code}</strong></p>
<p>Or <a href="{link}">sign in with this link</a>.</p>
<p>The code and the link work once, within {lifetime}.</p>
<p>If this wasn't you, ignore this message: nobody can sign in without the code or the link.</p>
</body></html>
"""


def duration(seconds: int) -> str:
    """`seconds` in words: "10 minutes", "1 minute", "90 seconds"."""
    count, unit = (seconds // 60, "minute") if seconds % 60 == 0 else (seconds, "second")
    return f"{count} {unit}{'' if count == 1 else 's'}"


def mailbox_address(email: str) -> str:
    """`email` as it goes on the wire: the domain in ASCII (IDNA) where the local part is ASCII
    too; otherwise as it is, for a server that speaks SMTPUTF8."""
    ascii_email = validate_email(email, check_deliverability=False).ascii_email
    return ascii_email or email


def sign_in_message(
    *,
    to: str,
    sender: str,
    site_name: str,
    code: str,
    link: str,
    lifetime: int,
    now: datetime,
) -> EmailMessage:
    """The message for one sign-in: `code` on a line of its own, `link`, and how long they work
    (`lifetime`, in seconds)."""
    recipient = mailbox_address(to)
    message = EmailMessage(policy=SMTP if recipient.isascii() else SMTPUTF8)
    message["Subject"] = f"Sign in to {site_name}"
    message["From"] = Address(display_name=site_name, addr_spec=sender)
    local, _, domain = recipient.rpartition("@")
    message["To"] = Address(username=local, domain=domain)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    values = {"site": site_name, "code": code, "link": link, "lifetime": duration(lifetime)}
    message.set_content(TEXT.format(**values))
    message.add_alternative(
        HTML.format(**{key: escape(str(value)) for key, value in values.items()}), subtype="html"
    )
    return message
