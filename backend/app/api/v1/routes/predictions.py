"""Read the stored predictions and their images (administrators only)."""

import logging
from typing import Any, Final

from fastapi import APIRouter, Depends, HTTPException, Response, status

from app.api.deps import ImageStoreDep, SessionDep, require_admin
from app.api.params import IdPath, PageSizeQuery, SkipQuery, VersionQuery
from app.db.crud.predictions import get_prediction, list_predictions
from app.schemas.common import ErrorResponse
from app.schemas.predictions import StoredPrediction

logger = logging.getLogger(__name__)

PREDICTION_NOT_FOUND: Final = "Prediction not found"

router = APIRouter(
    prefix="/predictions", tags=["predictions"], dependencies=[Depends(require_admin)]
)


@router.get("/", response_model=list[StoredPrediction])
def read_predictions(
    session: SessionDep,
    model_version: VersionQuery = None,
    skip: SkipQuery = 0,
    limit: PageSizeQuery = 100,
) -> Any:
    """List stored predictions, newest first, optionally of one model version."""
    return list_predictions(session, model_version=model_version, skip=skip, limit=limit)


@router.get(
    "/{prediction_id:int}",
    response_model=StoredPrediction,
    responses={
        status.HTTP_404_NOT_FOUND: {"model": ErrorResponse, "description": PREDICTION_NOT_FOUND}
    },
)
def read_prediction(prediction_id: IdPath, session: SessionDep) -> Any:
    """Return one stored prediction."""
    prediction = get_prediction(session, prediction_id)
    if prediction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=PREDICTION_NOT_FOUND)
    return prediction


IMAGE_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    status.HTTP_200_OK: {
        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        "description": "The JPEG file exactly as it was uploaded.",
    },
    status.HTTP_404_NOT_FOUND: {
        "model": ErrorResponse,
        "description": "No such prediction, or no image kept for it (none was sent, the image "
        "store is off, the image is past its retention or could not be stored).",
    },
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorResponse,
        "description": "The image store cannot be read.",
    },
}


@router.get(
    "/{prediction_id:int}/image",
    response_class=Response,
    responses=IMAGE_RESPONSES,
)
def read_prediction_image(
    prediction_id: IdPath, session: SessionDep, image_store: ImageStoreDep
) -> Response:
    """Return the image sent with a prediction, as kept by the image store."""
    prediction = get_prediction(session, prediction_id)
    if prediction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=PREDICTION_NOT_FOUND)
    digest = prediction.image_sha256
    if digest is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="This prediction had no image.")
    if image_store is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail="Images are not kept: the image store is off (IMAGE_STORE_ENABLED=false).",
        )
    try:
        data = image_store.get(digest)
    except Exception:
        logger.exception("Cannot read image %s from the image store %s", digest, image_store.url)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="The image store cannot be read."
        ) from None
    if data is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail="The image of this prediction is not kept (past its retention, or it could "
            "not be stored).",
        )
    return Response(data, media_type="image/jpeg")
