"""The email provider as the registry lists it: it signs in with codes and links it sends itself
(auth/email_codes.py, at /auth/email/…), never with a posted assertion."""

from api.auth.providers.base import AssertionRejected, Identity


class EmailProvider:
    def __init__(self, name: str) -> None:
        self.name = name

    async def verify(self, assertion: str) -> Identity:
        raise AssertionRejected("the email provider takes codes at /auth/email/verify")
