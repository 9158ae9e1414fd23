"""Passkeys: adding one (signed in), and checking one that signs someone in. The WebAuthn checks
are py_webauthn's; which challenge, credential and user belong together is checked here."""

import logging
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from api.auth.events import (
    PASSKEY_ADDED,
    PASSKEY_REMOVED,
    PASSKEY_RENAMED,
    Actor,
    NewEvent,
    current_request_id,
)
from api.auth.passkey_challenges import CHALLENGE_LIFETIME, Challenges, email_digest
from api.auth.passkey_errors import (
    CounterNotIncreased,
    EmailUnverified,
    NoSuchPasskey,
    PasskeyExists,
    PasskeyNotAdded,
    PasskeyRefused,
)
from api.auth.providers.base import Identity, failures_logged
from api.auth.rate_limit import SignInLimits
from api.auth.webauthn_json import (
    ALGORITHMS,
    BASE64URL,
    UNREADABLE,
    descriptor_of,
    response_of,
    transports_of,
)
from api.clock import Clock
from api.config.passkeys import RelyingParty
from api.observability.metrics import Metrics
from api.store.events import append_events
from api.store.passkey_tables import (
    MAX_CREDENTIAL_ID_BYTES,
    MAX_PASSKEY_NAME_LENGTH,
    MAX_PUBLIC_KEY_LENGTH,
    PasskeyRow,
)
from api.store.passkeys import (
    add_passkey,
    delete_passkey,
    find_passkey,
    passkeys_of,
    rename_passkey,
    user_handle_of,
)
from api.store.tables import User

logger = logging.getLogger("signet.passkeys")

TIMEOUT_MS = int(CHALLENGE_LIFETIME.total_seconds() * 1000)
DEFAULT_NAME = "Passkey"


class Passkeys:
    def __init__(
        self,
        *,
        db_sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        challenges: Challenges,
        limits: SignInLimits,
        relying_party: RelyingParty,
        metrics: Metrics,
    ) -> None:
        self._db_sessions = db_sessions
        self._clock = clock
        self._challenges = challenges
        self._limits = limits
        self._rp = relying_party
        self._metrics = metrics

    @property
    def _user_verification(self) -> UserVerificationRequirement:
        return UserVerificationRequirement(self._rp.user_verification)

    async def registration_options(self, user: User) -> str:
        """Creation options (WebAuthn's JSON form) for a new passkey of `user`'s."""
        if not user.email_verified:
            raise EmailUnverified(user.email)
        async with self._db_sessions() as db:
            handle = await user_handle_of(db=db, email=user.email)
            existing = await passkeys_of(db=db, email=user.email)
        handle = handle or bytes_to_base64url(secrets.token_bytes(32))
        challenge = self._challenges.issue(
            "registration", now=self._clock(), email=user.email, handle=handle
        )
        options = generate_registration_options(
            rp_id=self._rp.id,
            rp_name=self._rp.name,
            user_name=user.email,
            user_id=base64url_to_bytes(handle),
            user_display_name=user.email,
            challenge=challenge,
            timeout=TIMEOUT_MS,
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.REQUIRED,
                require_resident_key=True,
                user_verification=self._user_verification,
            ),
            exclude_credentials=[descriptor_of(row) for row in existing],
            supported_pub_key_algs=ALGORITHMS,
        )
        return options_to_json(options)

    async def register(
        self, user: User, credential: dict[str, Any], *, name: str | None
    ) -> PasskeyRow:
        """Add the passkey `credential` (an authenticator's answer to our options) to `user`."""
        if not user.email_verified:
            raise EmailUnverified(user.email)
        now = self._clock()
        try:
            handle, verified = await self._verify_registration(user, credential, now=now)
        except PasskeyNotAdded as refused:
            logger.warning("passkey not added: %s", refused.reason)
            raise
        row = PasskeyRow(
            id=secrets.token_urlsafe(16),
            credential_id=bytes_to_base64url(verified.credential_id),
            email=user.email,
            user_handle=handle,
            public_key=bytes_to_base64url(verified.credential_public_key),
            sign_count=verified.sign_count,
            name=(name or DEFAULT_NAME)[:MAX_PASSKEY_NAME_LENGTH],
            transports=",".join(transports_of(credential)),
            backed_up=verified.credential_backed_up,
            created_at=now,
        )
        async with self._db_sessions() as db:
            try:
                await add_passkey(db=db, row=row)
            except IntegrityError:
                await db.rollback()
                if await find_passkey(db=db, credential_id=row.credential_id) is None:
                    raise PasskeyNotAdded("the user is gone") from None
                raise PasskeyExists from None
            await append_events(db=db, events=[self._event(PASSKEY_ADDED, user.email, row)])
            await db.commit()
        return row

    async def _verify_registration(
        self, user: User, credential: dict[str, Any], *, now: datetime
    ) -> tuple[str, VerifiedRegistration]:
        """The user handle offered and the checked credential; `PasskeyNotAdded` unless the
        answer is to a challenge issued to `user` and passes every check."""
        try:
            challenge, raw = await self._challenges.spend(credential, "registration", now=now)
            if challenge.email_digest != email_digest(user.email) or not challenge.user_handle:
                raise PasskeyRefused("challenge issued to another user")
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=raw,
                expected_rp_id=self._rp.id,
                expected_origin=list(self._rp.origins),
                require_user_verification=self._rp.requires_user_verification,
                supported_pub_key_algs=ALGORITHMS,
            )
        except PasskeyRefused as refused:
            raise PasskeyNotAdded(refused.reason) from None
        except UNREADABLE as error:
            raise PasskeyNotAdded(str(error)[:200]) from None
        if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
            raise PasskeyNotAdded("credential id longer than WebAuthn allows")
        if len(bytes_to_base64url(verified.credential_public_key)) > MAX_PUBLIC_KEY_LENGTH:
            raise PasskeyNotAdded("public key too long")
        return challenge.user_handle, verified

    async def authentication_options(self, *, address: str) -> str:
        """Request options for signing in with any of this site's passkeys."""
        await self._limits.hit_passkey_options(address)
        options = generate_authentication_options(
            rp_id=self._rp.id,
            challenge=self._challenges.issue("authentication", now=self._clock()),
            timeout=TIMEOUT_MS,
            allow_credentials=[],
            user_verification=self._user_verification,
        )
        return options_to_json(options)

    async def verify(self, credential: dict[str, Any]) -> Identity:
        """Who an authenticator's answer signs in as; `PasskeyRefused` (the challenge spent)
        unless every check passes."""
        with failures_logged(proof="passkey", source="passkeys"):
            return await self._verify(credential)

    async def _verify(self, credential: dict[str, Any]) -> Identity:
        _, raw = await self._challenges.spend(credential, "authentication", now=self._clock())
        credential_id = credential.get("rawId")
        if not isinstance(credential_id, str) or not BASE64URL.fullmatch(credential_id):
            raise PasskeyRefused("no credential id, or not base64url")
        async with self._db_sessions() as db:
            row = await find_passkey(db=db, credential_id=credential_id)
        if row is None:
            raise PasskeyRefused("unknown credential")
        user_handle = response_of(credential).get("userHandle")
        if not isinstance(user_handle, str) or not secrets.compare_digest(
            user_handle.encode("utf-8", "replace"), row.user_handle.encode()
        ):
            raise PasskeyRefused("the user handle is not the credential's")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=raw,
                expected_rp_id=self._rp.id,
                expected_origin=list(self._rp.origins),
                credential_public_key=base64url_to_bytes(row.public_key),
                # Checked below, once the signature is known to be genuine.
                credential_current_sign_count=0,
                require_user_verification=self._rp.requires_user_verification,
            )
        except UNREADABLE as error:
            raise PasskeyRefused(str(error)[:200]) from None
        count = verified.new_sign_count
        # Refused only when both count (the issue's rule; WebAuthn L3 also flags a counter that
        # fell to 0, which synced passkeys report, and leaves the choice to the relying party).
        if count and row.sign_count and count <= row.sign_count:
            raise CounterNotIncreased(f"passkey {row.id}: counter {count} after {row.sign_count}")
        return Identity(
            email=row.email, subject=row.credential_id, email_verified=True, sign_count=count
        )

    def report_clone(self, refused: CounterNotIncreased) -> None:
        """Log and count a sign-in refused because the counter did not go up."""
        self._metrics.passkey_counter_regressed()
        logger.warning("%s: a cloned authenticator, or one answer used twice?", refused.reason)

    async def of_user(self, email: str) -> list[PasskeyRow]:
        """The user's passkeys, oldest first."""
        async with self._db_sessions() as db:
            return await passkeys_of(db=db, email=email)

    async def rename(self, email: str, passkey_id: str, name: str) -> PasskeyRow:
        """The user's passkey, renamed; `NoSuchPasskey` if they have none of that id."""
        return await self._change(email, passkey_id, PASSKEY_RENAMED, name=name)

    async def remove(self, email: str, passkey_id: str) -> None:
        """Remove the user's passkey; `NoSuchPasskey` if they have none of that id."""
        await self._change(email, passkey_id, PASSKEY_REMOVED)

    async def _change(
        self, email: str, passkey_id: str, change: str, *, name: str | None = None
    ) -> PasskeyRow:
        async with self._db_sessions() as db:
            if name is None:
                row = await delete_passkey(db=db, email=email, passkey_id=passkey_id)
            else:
                row = await rename_passkey(db=db, email=email, passkey_id=passkey_id, name=name)
            if row is None:
                raise NoSuchPasskey(passkey_id)
            await append_events(db=db, events=[self._event(change, email, row)])
            await db.commit()
        return row

    def _event(self, change: str, email: str, row: PasskeyRow) -> NewEvent:
        return NewEvent(
            change,
            at=self._clock(),
            actor=Actor.user(email),
            email=email,
            data={"passkey_id": row.id, "name": row.name},
            request_id=current_request_id(),
        )
