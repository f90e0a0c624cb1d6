"""Tell which model version is being served, and which one the registry alias points at."""

from fastapi import APIRouter, HTTPException, status

from app.api.deps import ModelServerDep
from app.api.model_status import alias_target_info, registry_status
from app.api.predict_serving import no_model_message
from app.schemas.common import ErrorResponse
from app.schemas.serving import ModelInfo

router = APIRouter(prefix="/models", tags=["models"])


@router.get(
    "/current",
    responses={
        status.HTTP_503_SERVICE_UNAVAILABLE: {
            "model": ErrorResponse,
            "description": "No model is loaded yet.",
        }
    },
)
async def current_model(server: ModelServerDep) -> ModelInfo:
    """The model being served, and what the registry alias points at now.

    `name`, `version`, `alias`, `run_id` and `loaded_at` describe the version that answers
    predictions. `alias_target` is the version `MODEL_NAME@MODEL_ALIAS` points at, as the
    registry last said (its `state` tells whether it is served, loading, or failed to load with
    `load_error`); `registry` tells whether that check succeeded.
    """
    served = server.current
    if served is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=no_model_message(server))
    return ModelInfo(
        name=served.name,
        version=served.version,
        alias=served.alias,
        loaded_at=served.loaded_at,
        run_id=served.run_id,
        alias_target=alias_target_info(server),
        registry=registry_status(server),
    )
