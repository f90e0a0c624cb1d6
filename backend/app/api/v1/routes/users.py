"""Manage users: administrators manage everybody, users read and change themselves.

E-mails are unique whatever their case (``email_key``); the database decides when two requests
race for one address (:mod:`app.api.unit_of_work` answers the loser's 400). The API always keeps
an active administrator: nobody can deactivate or demote themselves, nor the last one.
"""

from typing import Any, Final

from fastapi import APIRouter, Depends, HTTPException, Request, status

from app.api.deps import AdminUser, CurrentUser, SessionDep, SettingsDep, require_admin
from app.api.errors import invalid_input
from app.api.login_throttle import (
    TOO_MANY_FAILURES_RESPONSE,
    LoginThrottle,
    LoginThrottleDep,
    checked_password,
    login_attempt,
)
from app.api.params import IdPath, PageSizeQuery, SkipQuery
from app.api.unit_of_work import EMAIL_TAKEN
from app.db.crud import users as crud
from app.db.models import User
from app.schemas.common import ErrorResponse
from app.schemas.users import User as UserOut
from app.schemas.users import UserCreate, UserRegister, UserUpdate, UserUpdateMe

router = APIRouter(prefix="/users", tags=["users"])

USER_NOT_FOUND: Final = "The user with this username does not exist in the system"
NOT_ENOUGH_PRIVILEGES: Final = "The user doesn't have enough privileges"
REGISTRATION_CLOSED: Final = "Open user registration is forbidden on this server"
NO_SELF_DEMOTION: Final = (
    "Administrators cannot deactivate themselves or give up their own administrator rights: "
    "ask another administrator."
)
REAUTHENTICATION_REQUIRED: Final = "Required to change the e-mail or the password."
REAUTHENTICATION_FAILED: Final = "Incorrect current password"
OWN_CREDENTIALS: Final = (
    "Change your own e-mail or password with PUT /users/me, which needs your current password."
)
LAST_ADMIN: Final = (
    "This change would leave the API without an active administrator: make another user an "
    "active administrator first."
)

EMAIL_TAKEN_RESPONSE: Final[dict[int | str, dict[str, Any]]] = {
    status.HTTP_400_BAD_REQUEST: {
        "model": ErrorResponse,
        "description": f"E-mail already used, whatever its case: {EMAIL_TAKEN!r}.",
    }
}


def _check_email_free(session: SessionDep, email: str | None, owner: User | None = None) -> None:
    # The usual answer; under a race the unique index decides (see app.api.unit_of_work).
    if email is None:
        return
    existing = crud.get_user_by_email(session, email)
    if existing is not None and existing is not owner:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=EMAIL_TAKEN)


def _removes_admin(user: User, changes: dict[str, Any]) -> bool:
    """Whether ``changes`` would make an active administrator stop being one."""
    return (
        user.is_admin
        and user.is_active
        and (changes.get("is_admin") is False or changes.get("is_active") is False)
    )


def _changes(user: User, update: UserUpdate | UserUpdateMe) -> dict[str, Any]:
    """The fields an update sends, less an e-mail equal to the stored one.

    A form that sends every field back changes nothing by sending the e-mail unchanged.
    """
    changes = update.model_dump(exclude_unset=True)
    if changes.get("email") == user.email:
        del changes["email"]
    return changes


@router.get("/", response_model=list[UserOut], dependencies=[Depends(require_admin)])
def read_users(session: SessionDep, skip: SkipQuery = 0, limit: PageSizeQuery = 100) -> Any:
    """List users (administrators only)."""
    return crud.list_users(session, skip=skip, limit=limit)


@router.post(
    "/",
    response_model=UserOut,
    dependencies=[Depends(require_admin)],
    responses=EMAIL_TAKEN_RESPONSE,
)
def create_user(session: SessionDep, user_in: UserCreate) -> Any:
    """Create a user (administrators only)."""
    _check_email_free(session, user_in.email)
    return crud.create_user(session, **user_in.model_dump())


@router.post(
    "/open",
    response_model=UserOut,
    responses={
        **EMAIL_TAKEN_RESPONSE,
        status.HTTP_403_FORBIDDEN: {
            "model": ErrorResponse,
            "description": f"{REGISTRATION_CLOSED} (`USERS_OPEN_REGISTRATION` is false).",
        },
    },
)
def create_user_open(session: SessionDep, settings: SettingsDep, user_in: UserRegister) -> Any:
    """Open an account without logging in, when `USERS_OPEN_REGISTRATION` allows it."""
    if not settings.USERS_OPEN_REGISTRATION:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=REGISTRATION_CLOSED,
        )
    _check_email_free(session, user_in.email)
    return crud.create_user(session, **user_in.model_dump())


@router.get("/me", response_model=UserOut)
async def read_user_me(current_user: CurrentUser) -> Any:
    """Return the logged-in user."""
    return current_user


def _confirm_current_password(
    request: Request,
    session: SessionDep,
    throttle: LoginThrottle,
    user: User,
    password: str | None,
    *,
    upgrade: bool,
) -> None:
    """Check the password a user sent to change their credentials, counted as a login.

    ``upgrade``: store an older (non-NFC) hash again, as a login does (not when a new password
    replaces it anyway).

    Raises:
        RequestValidationError: 422 when it is missing.
        HTTPException: 429 past the login limits, 400 when it is wrong.
    """
    if password is None:
        raise invalid_input(("body", "current_password"), REAUTHENTICATION_REQUIRED, "missing")
    attempt = login_attempt(request, user.email)
    if not checked_password(
        throttle, attempt, lambda: crud.check_password(session, user, password, upgrade=upgrade)
    ):
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=REAUTHENTICATION_FAILED)


@router.put(
    "/me",
    response_model=UserOut,
    responses={
        status.HTTP_400_BAD_REQUEST: {
            "model": ErrorResponse,
            "description": f"E-mail already used, whatever its case: {EMAIL_TAKEN!r}; or "
            f"wrong `current_password`: {REAUTHENTICATION_FAILED!r}.",
        },
        **TOO_MANY_FAILURES_RESPONSE,
    },
)
def update_user_me(
    request: Request,
    session: SessionDep,
    current_user: CurrentUser,
    throttle: LoginThrottleDep,
    user_in: UserUpdateMe,
) -> Any:
    """Change your own e-mail, name or password.

    Changing the e-mail or the password needs `current_password`; a wrong one is counted as a
    failed login of the account (429 with `Retry-After` past `LOGIN_FAILURES_PER_ACCOUNT`).
    """
    changes = _changes(current_user, user_in)
    current_password = changes.pop("current_password", None)
    needs_password = current_password is not None or changes.keys() & {"email", "password"}
    if needs_password:
        _confirm_current_password(
            request,
            session,
            throttle,
            current_user,
            current_password,
            upgrade="password" not in changes,
        )
    _check_email_free(session, changes.get("email"), owner=current_user)
    return crud.update_user(session, current_user, changes)


@router.get(
    "/{user_id:int}",
    response_model=UserOut,
    responses={status.HTTP_404_NOT_FOUND: {"model": ErrorResponse, "description": USER_NOT_FOUND}},
)
def read_user_by_id(user_id: IdPath, session: SessionDep, current_user: CurrentUser) -> Any:
    """Return a user: yourself, or anybody for administrators."""
    if user_id == current_user.id:
        return current_user
    if not current_user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=NOT_ENOUGH_PRIVILEGES)
    user = crud.get_user(session, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=USER_NOT_FOUND)
    return user


@router.put(
    "/{user_id:int}",
    response_model=UserOut,
    responses={
        status.HTTP_400_BAD_REQUEST: {
            "model": ErrorResponse,
            "description": "E-mail already used, or the change would deactivate or demote "
            "yourself or the last active administrator, or change your own e-mail or password "
            "(`PUT /users/me` does, with your current password).",
        },
        status.HTTP_404_NOT_FOUND: {"model": ErrorResponse, "description": USER_NOT_FOUND},
    },
)
def update_user(
    user_id: IdPath, session: SessionDep, current_user: AdminUser, user_in: UserUpdate
) -> Any:
    """Change a user (administrators only); absent fields stay as they are.

    Administrators cannot deactivate or demote themselves, nor the last active administrator,
    and change their own e-mail or password with `PUT /users/me` (which needs the current one).
    """
    user = crud.get_user(session, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=USER_NOT_FOUND)
    changes = _changes(user, user_in)
    if user.id == current_user.id and changes.keys() & {"email", "password"}:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=OWN_CREDENTIALS)
    _check_email_free(session, changes.get("email"), owner=user)
    removes_admin = _removes_admin(user, changes)
    if removes_admin and user.id == current_user.id:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=NO_SELF_DEMOTION)
    if removes_admin:
        # Serialise with concurrent changes to administrators, then count after the change
        # (two administrators demoting each other at once: the second one is refused).
        crud.lock_active_admins(session)
    crud.update_user(session, user, changes)
    if removes_admin and crud.count_active_admins(session) == 0:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=LAST_ADMIN)
    return user
