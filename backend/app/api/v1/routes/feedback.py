"""Receive the category sellers finally chose, and measure the models with it."""

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, HTTPException, Query, status

from app.api.deps import CurrentUser, ModelServerDep, SessionDep, require_admin
from app.db.crud.feedback import (
    DuplicateFeedbackError,
    create_feedback,
    feedback_stats,
    list_feedback,
)
from app.db.crud.predictions import get_prediction
from app.db.models import Feedback
from app.schemas.common import ErrorResponse
from app.schemas.feedback import Feedback as FeedbackOut
from app.schemas.feedback import FeedbackCreate, FeedbackStats

DUPLICATE_FEEDBACK: Final = (
    "A prediction feedback with this product id already exists in the system."
)

router = APIRouter(prefix="/feedback", tags=["feedback"])


@router.get("/", response_model=list[FeedbackOut], dependencies=[Depends(require_admin)])
def get_feedbacks(
    session: SessionDep,
    model_version: str | None = None,
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """List feedback, optionally of one model version (administrators only)."""
    return list_feedback(session, model_version=model_version, skip=skip, limit=limit)


@router.get("/stats", dependencies=[Depends(require_admin)])
def get_feedback_stats(session: SessionDep) -> list[FeedbackStats]:
    """Count, accuracy and weighted F1 of every model version, from the feedback received."""
    return feedback_stats(session)


@router.post(
    "/",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_400_BAD_REQUEST: {
            "model": ErrorResponse,
            "description": "A feedback already exists for this product and model version.",
        },
        status.HTTP_404_NOT_FOUND: {"model": ErrorResponse, "description": "Unknown prediction."},
    },
)
def create_feedback_route(
    session: SessionDep,
    current_user: CurrentUser,
    server: ModelServerDep,
    feedback_in: FeedbackCreate,
) -> Any:
    """Record the category the seller chose; one feedback per product and model version."""
    model_version = feedback_in.model_version
    if feedback_in.prediction_id is not None:
        prediction = get_prediction(session, feedback_in.prediction_id)
        if prediction is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Prediction not found")
        model_version = model_version or prediction.model_version
    if model_version is None:
        served = server.current
        if served is None:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail="model_version is required while no model is being served.",
            )
        model_version = served.version
    feedback = Feedback(
        product_id=feedback_in.product_id,
        model_version=model_version,
        real_category_id=feedback_in.real_category_id,
        pred_category_id=feedback_in.pred_category_id,
        prediction_id=feedback_in.prediction_id,
        user_id=current_user.id,
    )
    try:
        return create_feedback(session, feedback)
    except DuplicateFeedbackError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=DUPLICATE_FEEDBACK) from None
