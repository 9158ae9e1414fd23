"""A notes service that lets only signed-in people in, built on Signet in one process.

    uvicorn --factory examples.fastapi_app.app:create_notes_app

Signet's routes (/auth/…) and this app's share one FastAPI app, one lifespan and one session
check: `CurrentUser` is the signed-in user, or a 401 problem.
"""

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from api.app import create_app
from api.config import Settings
from api.web.deps import CurrentUser

router = APIRouter(prefix="/notes", tags=["notes"])


class Note(BaseModel):
    author: str
    text: str


@router.get("")
async def my_notes(user: CurrentUser) -> list[Note]:
    """The signed-in person's notes."""
    return [Note(author=user.email, text=f"Welcome back, {user.email}.")]


def create_notes_app(settings: Settings | None = None) -> FastAPI:
    app = create_app(settings)
    app.include_router(router)
    return app
