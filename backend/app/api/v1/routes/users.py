"""Manage users: administrators manage everybody, users read and change themselves."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy.exc import IntegrityError

from app.api.deps import CurrentUser, SessionDep, SettingsDep, require_admin
from app.db.crud import users as crud
from app.db.models import User
from app.schemas.users import User as UserOut
from app.schemas.users import UserCreate, UserRegister, UserUpdate, UserUpdateMe

router = APIRouter(prefix="/users", tags=["users"])

EMAIL_TAKEN = "The user with this username already exists in the system."
USER_NOT_FOUND = "The user with this username does not exist in the system"
NOT_ENOUGH_PRIVILEGES = "The user doesn't have enough privileges"


def _check_email_free(session: SessionDep, email: str | None, owner: User | None = None) -> None:
    if email is None:
        return
    existing = crud.get_user_by_email(session, email)
    if existing is not None and existing is not owner:
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=EMAIL_TAKEN)


def _commit(session: SessionDep) -> None:
    # Two requests may pass the check above at once: the unique index decides.
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=EMAIL_TAKEN) from None


@router.get("/", response_model=list[UserOut], dependencies=[Depends(require_admin)])
def read_users(
    session: SessionDep,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """List users (administrators only)."""
    return crud.list_users(session, skip=skip, limit=limit)


@router.post("/", response_model=UserOut, dependencies=[Depends(require_admin)])
def create_user(session: SessionDep, user_in: UserCreate) -> Any:
    """Create a user (administrators only)."""
    _check_email_free(session, user_in.email)
    user = crud.create_user(session, **user_in.model_dump())
    _commit(session)
    return user


@router.post("/open", response_model=UserOut)
def create_user_open(session: SessionDep, settings: SettingsDep, user_in: UserRegister) -> Any:
    """Open an account without logging in, when `USERS_OPEN_REGISTRATION` allows it."""
    if not settings.USERS_OPEN_REGISTRATION:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="Open user registration is forbidden on this server",
        )
    _check_email_free(session, user_in.email)
    user = crud.create_user(session, **user_in.model_dump())
    _commit(session)
    return user


@router.get("/me", response_model=UserOut)
async def read_user_me(current_user: CurrentUser) -> Any:
    """Return the logged-in user."""
    return current_user


@router.put("/me", response_model=UserOut)
def update_user_me(session: SessionDep, current_user: CurrentUser, user_in: UserUpdateMe) -> Any:
    """Change your own e-mail, name or password."""
    changes = user_in.model_dump(exclude_unset=True, exclude_none=True)
    _check_email_free(session, changes.get("email"), owner=current_user)
    crud.update_user(session, current_user, changes)
    _commit(session)
    return current_user


@router.get("/{user_id}", response_model=UserOut)
def read_user_by_id(user_id: int, session: SessionDep, current_user: CurrentUser) -> Any:
    """Return a user: yourself, or anybody for administrators."""
    if user_id == current_user.id:
        return current_user
    if not current_user.is_admin:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=NOT_ENOUGH_PRIVILEGES)
    user = crud.get_user(session, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=USER_NOT_FOUND)
    return user


@router.put("/{user_id}", response_model=UserOut, dependencies=[Depends(require_admin)])
def update_user(user_id: int, session: SessionDep, user_in: UserUpdate) -> Any:
    """Change a user (administrators only); absent fields stay as they are."""
    user = crud.get_user(session, user_id)
    if user is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=USER_NOT_FOUND)
    changes = user_in.model_dump(exclude_unset=True, exclude_none=True)
    _check_email_free(session, changes.get("email"), owner=user)
    crud.update_user(session, user, changes)
    _commit(session)
    return user
