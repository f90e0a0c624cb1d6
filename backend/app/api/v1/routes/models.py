"""Tell which model version is being served."""

from fastapi import APIRouter, HTTPException, status

from app.api.deps import ModelServerDep
from app.api.v1.routes.predict import no_model_message
from app.schemas.common import ErrorResponse
from app.schemas.serving import ModelInfo

router = APIRouter(prefix="/models", tags=["models"])


@router.get(
    "/current",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": ErrorResponse}},
)
async def current_model(server: ModelServerDep) -> ModelInfo:
    """The registered model name, version and alias being served, and when it was loaded."""
    served = server.current
    if served is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=no_model_message(server))
    return ModelInfo(
        name=served.name,
        version=served.version,
        alias=served.alias,
        loaded_at=served.loaded_at,
        run_id=served.run_id,
    )
