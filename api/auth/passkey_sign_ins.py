"""What the sign-in writer does for passkeys, in its transaction: the account a passkey signs
in as, and the passkeys a trusted takeover of a user removes."""

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.events import PASSKEY_REMOVED, NewEvent
from api.auth.passkey_errors import CounterNotIncreased, PasskeyRefused
from api.store.passkeys import delete_passkeys_of, find_passkey, use_passkey
from api.store.sign_in_writer import Account, Login, sign_in_event
from api.store.tables import User


async def passkey_account(db: AsyncSession, login: Login, user: User | None) -> Account | Exception:
    """The account a passkey signs in as, its counter and last use recorded; refused if the
    passkey went (removed, its user deleted) or a concurrent sign-in moved its counter past."""
    claim = login.claim
    assert claim is not None
    if (
        user is None
        or claim.sign_count is None
        or not await use_passkey(
            db=db,
            credential_id=claim.subject,
            email=claim.email,
            sign_count=claim.sign_count,
            now=login.now,
        )
    ):
        passkey = await find_passkey(db=db, credential_id=claim.subject)
        if passkey is None or passkey.email != claim.email:
            return PasskeyRefused("the passkey was removed meanwhile")
        counted = f"counter {claim.sign_count} after {passkey.sign_count}"
        return CounterNotIncreased(f"passkey {passkey.id}: {counted}, by a sign-in meanwhile")
    return Account(email=claim.email)


async def remove_passkeys(db: AsyncSession, login: Login) -> list[NewEvent]:
    """Remove the passkeys of the claim's user, whom a verified owner of the email is taking
    over: whoever added them had only claimed the address."""
    assert login.claim is not None
    email = login.claim.email
    removed = await delete_passkeys_of(db=db, email=email)
    return [
        sign_in_event(login, PASSKEY_REMOVED, email=email, passkey_id=key.id, name=key.name)
        for key in removed
    ]
