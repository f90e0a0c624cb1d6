"""Read the stored predictions (administrators only)."""

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, status

from app.api.deps import SessionDep, require_admin
from app.api.params import IdPath, PageSizeQuery, SkipQuery, VersionQuery
from app.db.crud.predictions import get_prediction, list_predictions
from app.schemas.predictions import StoredPrediction

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


@router.get("/{prediction_id}", response_model=StoredPrediction)
def read_prediction(prediction_id: IdPath, session: SessionDep) -> Any:
    """Return one stored prediction."""
    prediction = get_prediction(session, prediction_id)
    if prediction is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Prediction not found")
    return prediction
