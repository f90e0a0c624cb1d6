"""Typed FastAPI dependencies: settings, database session, current user, served model."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.api.unit_of_work import get_db
from app.core.config import Settings, get_settings
from app.core.security import InvalidTokenError, decode_access_token, token_user_id
from app.db.crud.users import get_user, user_standing
from app.db.models import User
from app.inference.model_server import ModelServer
from app.inference.shadow import ShadowPredictor
from app.schemas.bounds import INT32_MAX
from product_classifier.image_store import ImageStore

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=f"{get_settings().API_V1_STR}/login/access-token",
    description="Log in with your e-mail as username and your password.",
)


async def get_app_settings(request: Request) -> Settings:
    """Return the settings the application was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


# "function" scope: the unit of work ends (commits) when the route returns, before the answer is
# sent, so that a failed commit is answered instead of a success already sent.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
TokenDep = Annotated[str, Depends(oauth2_scheme)]


async def get_model_server(request: Request) -> ModelServer:
    """Return the model server of the application."""
    server: ModelServer = request.app.state.model_server
    return server


ModelServerDep = Annotated[ModelServer, Depends(get_model_server)]


async def get_shadow(request: Request) -> ShadowPredictor | None:
    """Return the challenger's shadow predictor (``None`` without ``MODEL_CHALLENGER_ALIAS``)."""
    shadow: ShadowPredictor | None = request.app.state.shadow
    return shadow


ShadowDep = Annotated[ShadowPredictor | None, Depends(get_shadow)]


@dataclass(frozen=True, slots=True)
class TokenBearer:
    """Who presents a valid bearer token: the user it names, and when it was issued."""

    user_id: int
    issued_at: int
    """The token's ``iat`` (Unix time, whole seconds)."""

    def predates(self, created_at: datetime) -> bool:
        """Whether the token was issued before a user created at ``created_at`` existed.

        Such a token names an earlier user with the same id (deleted, its id given again):
        it is nobody's. ``iat`` is whole seconds, so the creation time is too.
        """
        return self.issued_at < int(created_at.timestamp())


def token_user(token: str, settings: Settings) -> TokenBearer:
    """The user a bearer token was issued to, and when (no database access).

    Raises:
        HTTPException: 401 for a forged, expired or malformed token.
    """
    try:
        claims = decode_access_token(token, settings.SECRET_KEY)
        return TokenBearer(token_user_id(claims.subject, INT32_MAX), claims.issued_at)
    except InvalidTokenError:
        raise _invalid_credentials() from None


def _invalid_credentials() -> HTTPException:
    """The 401 of a token that names nobody: forged, expired, malformed or of a deleted user."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Could not validate credentials",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _refuse_unless_active(bearer: TokenBearer, standing: tuple[bool, datetime] | None) -> None:
    """401 for a user that no longer exists (or was created after the token), 403 if inactive."""
    if standing is None or bearer.predates(standing[1]):
        raise _invalid_credentials()
    if not standing[0]:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Inactive user")


def active_user(session: Session, bearer: TokenBearer) -> User:
    """The user of ``bearer``, if it still exists and is active (blocking: one lookup).

    Raises:
        HTTPException: 401 when the user no longer exists (its token names nobody, even if
            its id was given to a newer user); 403 when the user is inactive.
    """
    user = get_user(session, bearer.user_id)
    _refuse_unless_active(bearer, None if user is None else (user.is_active, user.created_at))
    assert user is not None  # refused above otherwise
    return user


def check_active_user(session: Session, bearer: TokenBearer) -> None:
    """Refuse a user that no longer exists or is inactive, without loading it (blocking).

    Read from the database at every call (no cache): a deactivated user is refused at once,
    whichever worker answers.

    Raises:
        HTTPException: 401 when the user no longer exists (its token names nobody); 403
            when the user is inactive.
    """
    _refuse_unless_active(bearer, user_standing(session, bearer.user_id))


def get_current_user(session: SessionDep, token: TokenDep, settings: SettingsDep) -> User:
    """Return the active user the bearer token belongs to.

    Raises:
        HTTPException: 401 for a forged, expired or malformed token or one of a user that no
            longer exists; 403 when the user is inactive.
    """
    return active_user(session, token_user(token, settings))


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin(current_user: CurrentUser) -> User:
    """Refuse users who are not administrators (403)."""
    if not current_user.is_admin:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="The user doesn't have enough privileges",
        )
    return current_user


AdminUser = Annotated[User, Depends(require_admin)]
"""The logged-in user, refused with 403 unless an administrator."""


async def get_image_store(request: Request) -> ImageStore | None:
    """Return the application's image store (``None`` when ``IMAGE_STORE_ENABLED`` is false)."""
    store: ImageStore | None = request.app.state.image_store
    return store


ImageStoreDep = Annotated[ImageStore | None, Depends(get_image_store)]
