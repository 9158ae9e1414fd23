"""The development mailbox's page: the sign-in messages development's outbox kept (the newest
50, per process; see mail/outbox.py) shown at /dev-idp/mailbox. Development only."""

import re
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.mail.outbox import Outbox, text_of
from api.web.deps import ServicesDep

_URL = re.compile(r"https?://[^\s<>\"']+")
router = APIRouter(prefix="/dev-idp", include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development mailbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto;
padding: 0 1rem }} pre {{ white-space: pre-wrap; overflow-wrap: anywhere }}</style></head>
<body>
<main><h1>Development mailbox</h1>
<p>Development only: the messages Signet would have sent, newest first.</p>
{messages}
</main></body></html>
"""


def _linked(text: str) -> str:
    return _URL.sub(lambda found: f'<a href="{found[0]}">{found[0]}</a>', text)


@router.get("/mailbox")
async def mailbox(services: ServicesDep) -> HTMLResponse:
    outbox = services.mailer
    messages = list(reversed(outbox.messages)) if isinstance(outbox, Outbox) else []
    shown = "".join(
        f"<article><h2>{escape(str(message['Subject']))}</h2>"
        f"<p>To {escape(str(message['To']))}, {escape(str(message['Date']))}</p>"
        f"<pre>{_linked(escape(text_of(message), quote=False))}</pre></article>"
        for message in messages
    )
    return HTMLResponse(
        PAGE.format(messages=shown or "<p>No messages yet.</p>"),
        headers={"Cache-Control": "no-store"},
    )
