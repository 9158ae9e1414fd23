"""Every dependency the routes use: the one place tests override."""

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

import httpx
from fastapi import Depends, Request
from fastapi.security import APIKeyCookie
from sqlalchemy.ext.asyncio import AsyncSession

from api.config import Settings
from api.models import User, utcnow
from api.problems import NotAuthenticated, UnsupportedMediaType
from api.sessions import read_session_token
from api.users import get_user
from api.verifiers.base import Verifier
from api.verifiers.persona import PersonaVerifier

Clock = Callable[[], datetime]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with (see `create_app`)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_clock() -> Clock:
    return utcnow


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_http_client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http_client
    return client


HttpClientDep = Annotated[httpx.AsyncClient, Depends(get_http_client)]


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_db_session)]


def get_verifier(settings: SettingsDep, client: HttpClientDep, clock: ClockDep) -> Verifier:
    return PersonaVerifier(
        client=client,
        url=settings.verifier_url,
        audience=settings.audience,
        timeout=settings.verifier_timeout,
        clock=clock,
    )


VerifierDep = Annotated[Verifier, Depends(get_verifier)]


class SessionCookie(APIKeyCookie):
    """The session cookie, named by the settings; documented as an `APIKeyCookie` scheme."""

    async def __call__(self, request: Request, settings: SettingsDep) -> str | None:  # type: ignore[override]
        return request.cookies.get(settings.cookie_name)


# The name here is only what OpenAPI shows before create_app() puts in the configured one.
session_cookie = SessionCookie(name="signet_session", scheme_name="SessionCookie", auto_error=False)


async def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(session_cookie)],
) -> User:
    email = token and read_session_token(settings=settings, token=token, now=clock())
    if not email:
        raise NotAuthenticated
    user = await get_user(session=session, email=email)
    if user is None:
        raise NotAuthenticated
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_json_body(request: Request) -> None:
    """Refuse bodies not declared as JSON: those are the ones a page may send cross-site."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType
