"""How a token travels: in the session cookie, or in an `Authorization: Bearer` header.

The one module of the domain that knows requests and responses (as fastapi-users' transports).
"""

from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Protocol

from fastapi import Response
from sqlmodel import Field, SQLModel

from api.auth.tokens import TokenKind
from api.config import Settings
from api.store.tables import UserPublic


class BearerToken(SQLModel):
    """A session for a client that sends `Authorization: Bearer` instead of a cookie."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth 2 token type, not a secret)
    expires_in: int = Field(description="Seconds until the token expires.")


class Transport(Protocol):
    """Carries tokens of one kind to the client; the kind is also the token's salt."""

    kind: TokenKind
    # Whether a session used with this transport comes back re-issued (slides).
    slides: bool
    # Whether a token that arrived this way is re-issued at once (it came under a former name).
    reissues: bool

    def login_response(self, *, user: UserPublic, token: str, max_age: int) -> Response: ...

    def token_headers(self, *, token: str, max_age: int) -> list[tuple[bytes, bytes]]:
        """The response headers that send a re-issued token, where this transport can."""
        ...


class CookieTransport:
    """The HttpOnly session cookie; the answer to a login is the user."""

    kind = TokenKind.COOKIE
    slides = True

    def __init__(
        self,
        *,
        name: str,
        secure: bool,
        domain: str | None = None,
        former_name: str | None = None,
        reissues: bool = False,
    ) -> None:
        self.name = name
        self._secure = secure
        self._domain = domain
        # The name the cookie had before (the bare one, before __Host-): read, then replaced.
        self.former_name = former_name
        self.reissues = reissues

    def from_former_name(self) -> "CookieTransport":
        """This transport for a token that arrived under the former name: re-issued at once
        under the current one, the former cookie cleared."""
        return CookieTransport(
            name=self.name,
            secure=self._secure,
            domain=self._domain,
            former_name=self.former_name,
            reissues=True,
        )

    def login_response(self, *, user: UserPublic, token: str, max_age: int) -> Response:
        response = Response(user.model_dump_json(), media_type="application/json")
        self.set_token(response, token=token, max_age=max_age)
        return response

    def set_token(self, response: Response, *, token: str, max_age: int) -> None:
        """Send the token with `response`, which no cache may keep."""
        response.raw_headers.extend(self.token_headers(token=token, max_age=max_age))
        response.headers["Cache-Control"] = "no-store"

    def token_headers(self, *, token: str, max_age: int) -> list[tuple[bytes, bytes]]:
        cookie: SimpleCookie = SimpleCookie()
        cookie[self.name] = token
        attributes = cookie[self.name]
        attributes["max-age"] = max_age
        attributes["path"] = "/"
        if self._domain is not None:
            attributes["domain"] = self._domain
        attributes["secure"] = self._secure
        attributes["httponly"] = True
        attributes["samesite"] = "lax"
        headers = [(b"set-cookie", cookie.output(header="").strip().encode("latin-1"))]
        if self.reissues and self.former_name is not None:
            headers += self._cleared(self.former_name)
        return headers

    def _cleared(self, name: str) -> list[tuple[bytes, bytes]]:
        cookie: SimpleCookie = SimpleCookie()
        cookie[name] = ""
        cookie[name]["max-age"] = 0
        cookie[name]["path"] = "/"
        cookie[name]["secure"] = self._secure
        cookie[name]["httponly"] = True
        cookie[name]["samesite"] = "lax"
        return [(b"set-cookie", cookie.output(header="").strip().encode("latin-1"))]

    def logout_response(self) -> Response:
        """204, telling the browser to forget the cookie (set with the attributes it had)."""
        response = Response(status_code=204)
        self.set_token(response, token="", max_age=0)
        if self.former_name is not None:
            response.raw_headers.extend(self._cleared(self.former_name))
        return response


class BearerTransport:
    """A token the client keeps and sends back; never re-issued."""

    kind = TokenKind.BEARER
    slides = False
    reissues = False

    def login_response(self, *, user: UserPublic, token: str, max_age: int) -> Response:
        body = BearerToken(access_token=token, expires_in=max_age)
        return Response(
            body.model_dump_json(),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    def token_headers(self, *, token: str, max_age: int) -> list[tuple[bytes, bytes]]:
        return []


@dataclass(frozen=True, slots=True)
class Transports:
    cookie: CookieTransport
    bearer: BearerTransport

    @classmethod
    def from_settings(cls, settings: Settings) -> "Transports":
        cookie = CookieTransport(
            name=settings.session_cookie_name,
            secure=settings.cookie_secure,
            domain=settings.cookie_domain,
            former_name=(
                settings.cookie_name
                if settings.session_cookie_name != settings.cookie_name
                else None
            ),
        )
        return cls(cookie=cookie, bearer=BearerTransport())

    def presented(
        self, *, authorization: str | None, cookie_header: str | None
    ) -> tuple[Transport, str | None]:
        """The token a request presents in these headers, and its transport. An Authorization
        header, even a bad one, wins over the cookie."""
        if authorization is not None:
            scheme, _, bearer = authorization.partition(" ")
            return self.bearer, bearer.strip() if scheme.lower() == "bearer" else None
        token = cookie_value(cookie_header, self.cookie.name)
        former_name = self.cookie.former_name
        if token is None and former_name is not None:
            token = cookie_value(cookie_header, former_name)
            if token is not None:
                return self.cookie.from_former_name(), token
        return self.cookie, token


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """The value of the cookie `name` in a Cookie header; None when absent or sent twice (which
    one the browser meant cannot be told)."""
    if not cookie_header:
        return None
    prefix = name + "="
    found = [
        pair[len(prefix) :]
        for pair in (part.strip() for part in cookie_header.split(";"))
        if pair.startswith(prefix)
    ]
    return found[0] if len(found) == 1 else None
