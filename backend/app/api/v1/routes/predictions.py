"""Read the stored predictions (administrators only)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status

from app.api.deps import SessionDep, require_admin
from app.db.crud.predictions import get_prediction, list_predictions
from app.schemas.predictions import StoredPrediction

router = APIRouter(
    prefix="/predictions", tags=["predictions"], dependencies=[Depends(require_admin)]
)


@router.get("/", response_model=list[StoredPrediction])
def read_predictions(
    session: SessionDep,
    model_version: str | None = None,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """List stored predictions, newest first, optionally of one model version."""
    return list_predictions(session, model_version=model_version, skip=skip, limit=limit)


@router.get("/{prediction_id}", response_model=StoredPrediction)
def read_prediction(prediction_id: int, session: SessionDep) -> Any:
    """Return one stored prediction."""
    prediction = get_prediction(session, prediction_id)
    if prediction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Prediction not found")
    return prediction
