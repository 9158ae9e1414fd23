"""The admin API, /admin/v1: every route takes an admin key (require_admin_key), none a
session."""

from fastapi import APIRouter, Depends

from api.web.deps import require_admin_key
from api.web.routes.admin import events, invitations, sessions, users, webhooks

router = APIRouter(prefix="/admin/v1", tags=["admin"], dependencies=[Depends(require_admin_key)])
# Sessions before users: /users/{email}/sessions is the sessions router's, not a user's email.
for resource in (sessions, users, invitations, events, webhooks):
    router.include_router(resource.router)
