"""Interactive API docs served from files shipped in the package, so they work offline."""

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_UI_VERSION = "5.35.0"
SWAGGER_UI_FILES = Path(__file__).parent / "static" / "swagger-ui"
ASSETS_PATH = "/docs/assets"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    assets = f"{root}{ASSETS_PATH}"
    return get_swagger_ui_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} API",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js?v={SWAGGER_UI_VERSION}",
        swagger_css_url=f"{assets}/swagger-ui.css?v={SWAGGER_UI_VERSION}",
        swagger_favicon_url=f"{assets}/favicon-32x32.png",
        oauth2_redirect_url=None,
    )


def mount_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs from the vendored assets."""
    app.include_router(router)
    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI_FILES), name="docs-assets")
