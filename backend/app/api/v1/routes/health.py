"""Liveness and readiness probes (for start.sh, Docker and load balancers)."""

import logging

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import text

from app.api.database_unavailable import retry_after_seconds
from app.api.deps import ModelServerDep, SessionDep, ShadowDep
from app.api.login_throttle import LoginThrottleDep
from app.api.model_status import (
    alias_target_info,
    challenger_warnings,
    model_warnings,
    registry_status,
)
from app.inference.model_server import ModelServer
from app.schemas.common import ErrorResponse
from app.schemas.serving import Health

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> Health:
    """The process answers."""
    return Health(status="alive")


@router.get(
    "/ready",
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": ErrorResponse,
            "description": "The database does not answer, or no model is loaded (the detail "
            "says which, and why).",
        }
    },
)
def ready(
    request: Request,
    session: SessionDep,
    server: ModelServerDep,
    shadow: ShadowDep,
    throttle: LoginThrottleDep,
) -> Health:
    """Ready when the database answers and a model is loaded (else 503 and why).

    A service that serves a loaded model stays ready when the model registry does not answer
    or when the alias moved to a version that failed to load: `warnings` says so, and
    `alias_target` and `registry` give the details (as in `/models/current`). So does a
    `LOGIN_LIMITS_STORAGE_URI` that fails (logins then go on without throttling).
    """
    problems = []
    try:
        session.execute(text("SELECT 1"))
    except Exception as error:
        logger.warning("Readiness: the database does not answer: %s", error)
        problems.append("the database does not answer")
    served = server.current
    if served is None:
        problems.append(f"no model is loaded ({_why_no_model(server)})")
    if problems:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="Not ready: " + "; ".join(problems),
            headers={"Retry-After": str(retry_after_seconds(request))},
        )
    assert served is not None
    return Health(
        status="ready",
        database="ok",
        model=served.label,
        alias_target=alias_target_info(server),
        registry=registry_status(server),
        warnings=model_warnings(server)
        + challenger_warnings(shadow)
        + ([throttle.problem] if throttle.problem else []),
    )


def _why_no_model(server: ModelServer) -> str:
    warnings = model_warnings(server)
    if warnings:
        return "; ".join(warnings)
    return f"{server.model_uri} is not registered yet"
