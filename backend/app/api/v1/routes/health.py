"""Liveness and readiness probes (for start.sh, Docker and load balancers)."""

import logging

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import text

from app.api.deps import ModelServerDep, SessionDep
from app.schemas.common import ErrorResponse
from app.schemas.serving import Health

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> Health:
    """The process answers."""
    return Health(status="alive")


@router.get("/ready", responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ErrorResponse}})
def ready(session: SessionDep, server: ModelServerDep) -> Health:
    """Ready only when the database answers and a model is loaded (else 503 and why)."""
    problems = []
    try:
        session.execute(text("SELECT 1"))
    except Exception as error:
        logger.warning("Readiness: the database does not answer: %s", error)
        problems.append("the database does not answer")
    served = server.current
    if served is None:
        problems.append(f"no model is loaded ({server.model_uri} is not registered yet)")
    if problems:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="Not ready: " + "; ".join(problems)
        )
    assert served is not None
    return Health(status="ready", database="ok", model=served.label)
