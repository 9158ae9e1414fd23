"""Signing in: the user and a brand-new session, written together."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from api.login_sessions import start_session
from api.models import LoginSession, User
from api.users import upsert_user


async def sign_in(
    *, session: AsyncSession, email: str, now: datetime, lifetime: int
) -> tuple[User, LoginSession]:
    """Create or stamp the user and start a new session, in one transaction."""
    user = await upsert_user(session=session, email=email, now=now)
    login_session = await start_session(
        session=session, email=user.email, now=now, lifetime=lifetime
    )
    await session.commit()
    return user, login_session
