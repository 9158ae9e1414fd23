"""Login, the current user, and logout."""

from fastapi import APIRouter, Depends, Response, status

from api.deps import ClockDep, CurrentUser, SessionDep, SettingsDep, VerifierDep, require_json_body
from api.models import LoginRequest, UserPublic
from api.problems import problem_responses
from api.sessions import clear_session_cookie, issue_session_token, set_session_cookie
from api.users import upsert_user

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/login",
    summary="Sign in with an assertion",
    dependencies=[Depends(require_json_body)],
    responses=problem_responses(401, 415, 422, 503),
)
async def login(
    body: LoginRequest,
    verifier: VerifierDep,
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    response: Response,
) -> UserPublic:
    """Verify an identity assertion and start a session for the email it proves."""
    identity = await verifier.verify(body.assertion)
    now = clock()
    user = await upsert_user(session=session, email=identity.email, now=now)
    token = issue_session_token(settings=settings, email=user.email, now=now)
    set_session_cookie(response, settings=settings, token=token)
    return UserPublic.model_validate(user, from_attributes=True)


@router.get("/me", summary="Who is signed in", responses=problem_responses(401))
async def me(user: CurrentUser, response: Response) -> UserPublic:
    """The user signed in with this session."""
    response.headers["Cache-Control"] = "no-store"
    return UserPublic.model_validate(user, from_attributes=True)


@router.post(
    "/logout", summary="Sign out", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
async def logout(settings: SettingsDep, response: Response) -> None:
    """End this session; works with or without one."""
    clear_session_cookie(response, settings=settings)
