"""The demo single-page app (development only): the reference for how a SPA talks to Signet."""

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

DEMO_FILES = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def demo_page() -> FileResponse:
    return FileResponse(DEMO_FILES / "index.html", headers={"Cache-Control": "no-cache"})


def mount_demo(app: FastAPI) -> None:
    """Serve the demo at / and its files under /demo."""
    app.include_router(router)
    app.mount("/demo", StaticFiles(directory=DEMO_FILES), name="demo")
