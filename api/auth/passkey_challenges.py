"""WebAuthn challenges that travel sealed: the challenge itself is a signed, timestamped note of
which ceremony it is for (and, adding a passkey, for whom), so issuing one writes nothing, and
only its use is recorded (once, by every worker and host together, see one_time.py)."""

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from itsdangerous import BadData
from pydantic import SecretStr
from webauthn.helpers import base64url_to_bytes

from api.auth.one_time import OneTimeProofs
from api.auth.passkey_errors import PasskeyRefused
from api.auth.tokens import timed_serializer

CHALLENGE_LIFETIME = timedelta(minutes=5)
_SALT = "signet.passkey"
# A ceremony's clientDataJSON is a few hundred bytes; anything far larger is not one.
MAX_CLIENT_DATA_LENGTH = 4096

Ceremony = Literal["registration", "authentication"]


@dataclass(frozen=True, slots=True)
class Challenge:
    """What a sealed challenge says: its ceremony, a nonce, and, adding a passkey, the user
    (by a digest of the email) and the user handle offered to the authenticator."""

    ceremony: Ceremony
    nonce: str
    user_handle: str | None = None
    email_digest: str | None = None


def email_digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:32]


class Challenges:
    def __init__(
        self,
        *,
        secret_key: SecretStr,
        one_time: OneTimeProofs,
        fallback_keys: tuple[SecretStr, ...] = (),
    ) -> None:
        self._key = secret_key
        # A ceremony under way when the key is rotated (or on a host not rotated yet) completes.
        self._keys = (secret_key, *fallback_keys)
        self._one_time = one_time

    def issue(
        self, ceremony: Ceremony, *, now: datetime, email: str | None = None, handle: str = ""
    ) -> bytes:
        """A new challenge for `ceremony` (for `email`, whose authenticator gets `handle`)."""
        note: dict[str, Any] = {"c": ceremony, "n": secrets.token_urlsafe(16)}
        if email is not None:
            note |= {"u": handle, "e": email_digest(email)}
        serializer = timed_serializer(self._key.get_secret_value(), salt=_SALT, now=now)
        return serializer.dumps(note).encode("ascii")

    async def spend(
        self, credential: dict[str, Any], ceremony: Ceremony, *, now: datetime
    ) -> tuple[Challenge, bytes]:
        """The challenge a credential's clientDataJSON answers, as issued and its bytes, used up
        whatever comes next; `PasskeyRefused` unless this Signet issued it for `ceremony` less
        than five minutes ago and it was not used before."""
        raw = _challenge_of(credential)
        challenge = self._read(raw, now=now)
        until = now + CHALLENGE_LIFETIME
        if not await self._one_time.first_use(f"passkey:{challenge.nonce}", until=until):
            raise PasskeyRefused("challenge used before")
        if challenge.ceremony != ceremony:
            raise PasskeyRefused(f"challenge issued for {challenge.ceremony}")
        return challenge, raw

    def _read(self, raw: bytes, *, now: datetime) -> Challenge:
        for key in self._keys:
            serializer = timed_serializer(key.get_secret_value(), salt=_SALT, now=now)
            try:
                note = serializer.loads(raw.decode("ascii"), max_age=CHALLENGE_LIFETIME.seconds)
                return Challenge(
                    ceremony=note["c"],
                    nonce=str(note["n"]),
                    user_handle=note.get("u"),
                    email_digest=note.get("e"),
                )
            except BadData:
                continue
            except (UnicodeDecodeError, KeyError, TypeError):
                break
        raise PasskeyRefused("challenge not issued here, or expired")


def _challenge_of(credential: dict[str, Any]) -> bytes:
    """The challenge in a credential's clientDataJSON, unchecked; `PasskeyRefused` if there
    is none to read."""
    try:
        encoded = credential["response"]["clientDataJSON"]
        if not isinstance(encoded, str) or len(encoded) > MAX_CLIENT_DATA_LENGTH:
            raise PasskeyRefused("clientDataJSON missing or too long")
        client_data = json.loads(base64url_to_bytes(encoded))
        challenge = client_data["challenge"]
        if not isinstance(challenge, str):
            raise PasskeyRefused("challenge not a string")
        return base64url_to_bytes(challenge)
    except PasskeyRefused:
        raise
    # json's and base64's errors are ValueErrors; JSON nested thousands deep, a RecursionError.
    except (KeyError, TypeError, ValueError, RecursionError):
        raise PasskeyRefused("clientDataJSON malformed") from None
