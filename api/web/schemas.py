"""Request and response bodies of the routes (besides the user, which `store.tables` defines)."""

from pydantic import StrictStr
from sqlmodel import Field, SQLModel

MAX_ASSERTION_LENGTH = 8192


class LoginRequest(SQLModel):
    """An identity assertion obtained from the identity provider."""

    model_config = {"extra": "forbid"}

    assertion: StrictStr = Field(min_length=1, max_length=MAX_ASSERTION_LENGTH)


class Health(SQLModel):
    status: str = "ok"
