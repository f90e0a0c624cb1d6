"""Log in with the OAuth2 password flow and check a token."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.form_media_type import require_form_body
from app.api.login_throttle import (
    TOO_MANY_FAILURES_RESPONSE,
    LoginThrottleDep,
    checked_password,
    login_attempt,
)
from app.core.security import create_access_token
from app.db.crud.users import authenticate
from app.db.models import User
from app.schemas.common import ErrorResponse
from app.schemas.token import LoginForm, Token
from app.schemas.users import User as UserOut

router = APIRouter(tags=["login"])


@router.post(
    "/login/access-token",
    dependencies=[Depends(require_form_body)],
    responses={
        status.HTTP_401_UNAUTHORIZED: {
            "model": ErrorResponse,
            "description": "Incorrect email or password",
        },
        status.HTTP_403_FORBIDDEN: {"model": ErrorResponse, "description": "Inactive user"},
        **TOO_MANY_FAILURES_RESPONSE,
    },
)
def login_access_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    throttle: LoginThrottleDep,
    form_data: Annotated[LoginForm, Form()],
) -> Token:
    """Exchange an e-mail (as `username`) and a password for a bearer access token.

    Attempts are counted per account (a success clears them) and failures per client
    address; past the limits the answer is 429 with `Retry-After`, before the password is
    checked. A `username` longer than any e-mail address (320 characters) is a 422.
    """
    attempt = login_attempt(request, form_data.username)
    user = checked_password(
        throttle, attempt, lambda: authenticate(session, form_data.username, form_data.password)
    )
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED, detail="Incorrect email or password"
        )
    if not user.is_active:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Inactive user")
    expires = timedelta(minutes=settings.ACCESS_TOKEN_EXPIRE_MINUTES)
    return Token(access_token=create_access_token(user.id, settings.SECRET_KEY, expires))


@router.post("/login/test-token", response_model=UserOut)
async def test_token(current_user: CurrentUser) -> User:
    """Return the user the access token belongs to."""
    return current_user
