"""The admin API, /admin/v1: every route takes an admin key (require_admin_key), none a
session."""

from fastapi import APIRouter, Depends

from api.web.deps import require_admin_key
from api.web.routes.admin import webhooks

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(require_admin_key)])
router.include_router(webhooks.router)
