"""One database unit of work per request, committed in one place.

Routes and data-access functions only add and flush. :func:`get_db` commits once the route has
returned (and before the answer is sent, so nothing acknowledged is lost), rolls back when it
raised, and turns a broken unique constraint, however the race went, into the documented 400
(:data:`UNIQUE_CONFLICTS`): two requests that both passed a "does it exist?" check cannot both
write, and the loser gets the same answer as if it had come second.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final, TypeVar

import anyio.to_thread
from fastapi import HTTPException, Request, status
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.db.constraints import violated_unique_constraint
from app.db.session import has_writes

EMAIL_TAKEN: Final = "The user with this username already exists in the system."
DUPLICATE_FEEDBACK: Final = (
    "A prediction feedback with this product id already exists in the system."
)
DUPLICATE_PREDICTION_FEEDBACK: Final = "A feedback already exists for this prediction."

UNIQUE_CONFLICTS: Final[dict[str, str]] = {
    "ix_users_email_key": EMAIL_TAKEN,
    "uq_feedback_product_id_model_version": DUPLICATE_FEEDBACK,
    "ix_feedback_prediction_id": DUPLICATE_PREDICTION_FEEDBACK,
}
"""Unique constraint (or unique index) name → the 400 ``detail`` that answers its violation."""

EndpointT = TypeVar("EndpointT", bound=Callable[..., Any])
_OPENS_OWN_UNIT_OF_WORK: Final = "_opens_own_unit_of_work"


def conflict_error(error: IntegrityError) -> HTTPException | None:
    """The 400 answering a broken unique constraint, or ``None`` for any other fault."""
    name = violated_unique_constraint(error)
    detail = UNIQUE_CONFLICTS.get(name) if name else None
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail) if detail else None


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's unit of work: a session, committed after the route, closed at the end.

    Asynchronous on purpose: creating a session does no I/O, and a request that only read
    needs no commit; the commit (when there is something to write) runs in the thread pool.

    Raises:
        HTTPException: 400 when a unique constraint refused the request's writes.
    """
    session: Session = request.app.state.session_factory()
    try:
        yield session
        if has_writes(session):
            await anyio.to_thread.run_sync(session.commit)
    except IntegrityError as error:
        await anyio.to_thread.run_sync(session.rollback)
        conflict = conflict_error(error)
        if conflict is None:
            raise
        raise conflict from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def commit_unit_of_work(session: Session) -> None:
    """Commit the request's writes, if any (blocking: call it in the request's worker thread).

    For routes that open their own unit of work (:func:`own_unit_of_work`) and end it in the
    same worker-thread step as their last database work, saving a hand-off.

    Raises:
        HTTPException: 400 when a unique constraint refused the writes (rolled back).
    """
    if not has_writes(session):
        return
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        conflict = conflict_error(error)
        if conflict is None:
            raise
        raise conflict from None


@asynccontextmanager
async def own_unit_of_work(factory: sessionmaker[Session]) -> AsyncIterator[Session]:
    """A session the route commits itself, with :func:`commit_unit_of_work`, before answering.

    Whatever was not committed when the block ends (it raised, or never committed) is rolled
    back; the session is closed.
    """
    session = factory()
    try:
        yield session
    finally:
        session.close()  # rolls back what was not committed


def opens_own_unit_of_work(endpoint: EndpointT) -> EndpointT:
    """Mark a route that opens its own unit of work instead of depending on :func:`get_db`.

    The OpenAPI document then describes its database 503 like the other routes' (apply it
    below the route decorator).
    """
    setattr(endpoint, _OPENS_OWN_UNIT_OF_WORK, True)
    return endpoint


def uses_database(call: Callable[..., Any] | None) -> bool:
    """Whether ``call`` is :func:`get_db` or a route marked by :func:`opens_own_unit_of_work`."""
    return call is get_db or bool(getattr(call, _OPENS_OWN_UNIT_OF_WORK, False))
