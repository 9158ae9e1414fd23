"""The sign-in page's parts, as HTML: a button per provider, the email and code forms, who is
signed in, and what each `signet_error` a redirect flow comes back with means, in words."""

from html import escape
from pathlib import Path

# What a failed redirect sign-in means (routes/providers.py adds `?signet_error=<code>`; a
# provider's own RFC 6749 error codes pass through). The demo's app.js says the same.
SIGN_IN_ERRORS = {
    "access_denied": "You cancelled signing in, or the provider did not let you in.",
    "email_not_verified": "That provider does not vouch for your email address.",
    "account_exists": "An account with this email exists: sign in the way you did before.",
    "account_disabled": "This account is disabled. Ask whoever runs this site.",
    "not_allowed": "This site does not let that account in. Ask whoever runs it for access.",
    "identity_in_use": "That account is already linked to another user.",
    "invalid_response": "The provider's answer did not check out. Please try again.",
    "provider_unavailable": "The provider could not be reached. Please try again shortly.",
    "temporarily_unavailable": "Too many attempts, or the provider is busy. Wait, then retry.",
    "server_error": "The provider ran into a problem. Please try again shortly.",
}
# Anything else (a code the provider made up, or one typed into the address bar): never echoed.
UNKNOWN_SIGN_IN_ERROR = "Signing in did not work. Please try again."
# Read once: the page's policy allows this exact text by its hash (pages.script_policy).
PASSKEY_SCRIPT = (Path(__file__).parent / "client" / "sign_in_page.js").read_text()
NOT_AN_ADDRESS = '<p class="error" role="alert">That is not an email address.</p>'


def sign_in_error(code: str | None) -> str:
    """The alert for a `signet_error` code, in words; "" without one."""
    if code is None:
        return ""
    words = SIGN_IN_ERRORS.get(code, UNKNOWN_SIGN_IN_ERROR)
    return f'<p class="error" role="alert">{escape(words)}</p>'


def provider_buttons(starts: list[tuple[str, str]]) -> str:
    """A link styled as a button per (display name, start URL)."""
    if not starts:
        return ""
    items = "".join(
        f'<li><a class="button" href="{escape(url)}">Sign in with {escape(name)}</a></li>'
        for name, url in starts
    )
    return f'<ul class="providers" aria-label="Sign-in providers">{items}</ul>'


def passkey_button(return_to: str) -> str:
    """ "Sign in with a passkey", hidden until the page's script (PASSKEY_SCRIPT) shows it: a
    browser without scripts or WebAuthn never offers what it cannot do."""
    return (
        '<button type="button" id="passkey" class="secondary" hidden '
        f'data-return-to="{escape(return_to)}">Sign in with a passkey</button>'
        f'<script type="module">{PASSKEY_SCRIPT}</script>'
    )


def email_form(
    base: str, return_to: str, *, after_buttons: bool = False, passkeys: bool = False
) -> str:
    """The form that asks for a code by email (below an "or" when buttons come first); with
    passkeys, the field offers them in its autofill too (conditional mediation)."""
    autocomplete = "username webauthn" if passkeys else "email"
    return (
        ('<p class="or">or</p>' if after_buttons else "")
        + f'<form method="post" action="{escape(base)}/auth/sign-in/email">'
        '<label for="email">Email address</label>'
        f'<input id="email" name="email" type="email" autocomplete="{autocomplete}" required '
        'aria-describedby="email-hint">'
        f'<input type="hidden" name="return_to" value="{escape(return_to)}">'
        '<button type="submit">Email me a code</button>'
        '<p class="hint" id="email-hint">We will email you a code and a link; either signs you '
        "in.</p></form>"
    )


def code_form(base: str, email: str) -> str:
    """The form to enter the emailed code."""
    return (
        f'<form method="post" action="{escape(base)}/auth/sign-in/email/code">'
        f'<input type="hidden" name="email" value="{escape(email)}">'
        '<label for="code">Code</label>'
        '<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" '
        'pattern="[0-9 \\-]*" required autofocus>'
        '<button type="submit">Sign in</button></form>'
    )


def signed_in(base: str, email: str, *, continue_to: str | None, return_to: str) -> str:
    """Who is signed in, a way on (when the page was sent a `return_to`) and a way out."""
    onward = (
        f'<a class="button primary" href="{escape(continue_to)}">Continue</a>'
        if continue_to is not None
        else ""
    )
    return (
        f'<p class="status" role="status">You are signed in as <strong>{escape(email)}</strong>.'
        f"</p>{onward}"
        f'<form method="post" action="{escape(base)}/auth/sign-in/logout">'
        f'<input type="hidden" name="return_to" value="{escape(return_to)}">'
        '<button type="submit" class="secondary">Sign out</button></form>'
    )
