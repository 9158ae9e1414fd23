"""The message that carries a sign-in code and link, and the notice sent instead to an address
the policy does not let in: plain text and HTML, built by the standard library, whose SMTP
policy refuses any header that would let a value start another one."""

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


REFUSAL_TEXT = """\
Someone asked to sign in to {site} with this address, but this address cannot sign in there.
If you think it should, ask whoever runs {site} for access.

If this wasn't you, ignore this message.
"""

REFUSAL_HTML = """\
<!doctype html>
<html lang="en"><body style="font: 16px/1.5 system-ui, sans-serif">
<p>Someone asked to sign in to {site} with this address, but this address cannot sign in there.
If you think it should, ask whoever runs {site} for access.</p>
<p>If this wasn't you, ignore this message.</p>
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
    values = {"site": site_name, "code": code, "link": link, "lifetime": duration(lifetime)}
    return _message(
        to=to,
        sender=sender,
        site_name=site_name,
        subject=f"Sign in to {site_name}",
        now=now,
        text=TEXT,
        html=HTML,
        values=values,
    )


def refusal_message(*, to: str, sender: str, site_name: str, now: datetime) -> EmailMessage:
    """The short notice that `to` cannot sign in to the site: no code, no link."""
    return _message(
        to=to,
        sender=sender,
        site_name=site_name,
        subject=f"You cannot sign in to {site_name}",
        now=now,
        text=REFUSAL_TEXT,
        html=REFUSAL_HTML,
        values={"site": site_name},
    )


def _message(
    *,
    to: str,
    sender: str,
    site_name: str,
    subject: str,
    now: datetime,
    text: str,
    html: str,
    values: dict[str, str],
) -> EmailMessage:
    recipient = mailbox_address(to)
    message = EmailMessage(policy=SMTP if recipient.isascii() else SMTPUTF8)
    message["Subject"] = subject
    message["From"] = Address(display_name=site_name, addr_spec=sender)
    local, _, domain = recipient.rpartition("@")
    message["To"] = Address(username=local, domain=domain)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text.format(**values))
    message.add_alternative(
        html.format(**{key: escape(value) for key, value in values.items()}), subtype="html"
    )
    return message
