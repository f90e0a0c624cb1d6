"""Receive the category sellers finally chose, and measure the models with it."""

from typing import Any, Final, NamedTuple

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from app.api.deps import CurrentUser, ModelServerDep, SessionDep, SettingsDep, require_admin
from app.api.errors import invalid_input
from app.api.params import IdPath, PageSizeQuery, SkipQuery, VersionQuery
from app.api.unit_of_work import DUPLICATE_PREDICTION_FEEDBACK
from app.api.v1.routes.predictions import PREDICTION_NOT_FOUND
from app.core.config import Settings
from app.db.crud.feedback import (
    add_feedback,
    delete_feedback,
    has_feedback_for_prediction,
    list_feedback,
)
from app.db.crud.predictions import get_prediction, top_category
from app.db.models import Feedback, Prediction, User
from app.inference.model_server import ModelServer
from app.inference.registered_versions import RegistryUnavailableError, registered_versions
from app.monitoring.quality import feedback_stats
from app.schemas.common import ErrorResponse
from app.schemas.feedback import Feedback as FeedbackOut
from app.schemas.feedback import FeedbackCreate, FeedbackStats

router = APIRouter(prefix="/feedback", tags=["feedback"])


@router.get("/", response_model=list[FeedbackOut], dependencies=[Depends(require_admin)])
def get_feedbacks(
    session: SessionDep,
    model_version: VersionQuery = None,
    skip: SkipQuery = 0,
    limit: PageSizeQuery = 100,
) -> Any:
    """List feedback, optionally of one model version (administrators only)."""
    return list_feedback(session, model_version=model_version, skip=skip, limit=limit)


@router.get("/stats", dependencies=[Depends(require_admin)])
def get_feedback_stats(session: SessionDep) -> list[FeedbackStats]:
    """Count, accuracy and weighted F1 of every model version, from the feedback received."""
    return feedback_stats(session)


FEEDBACK_NOT_FOUND: Final = "Feedback not found"


@router.delete(
    "/{feedback_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(require_admin)],
    responses={
        status.HTTP_404_NOT_FOUND: {"model": ErrorResponse, "description": FEEDBACK_NOT_FOUND}
    },
)
def delete_feedback_route(feedback_id: IdPath, session: SessionDep) -> None:
    """Delete a feedback (administrators only): a wrong or bogus one, whoever sent it.

    Its product and model version (and its prediction) can then receive a feedback again, and
    the quality figures no longer count it.
    """
    if not delete_feedback(session, feedback_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=FEEDBACK_NOT_FOUND)


FEEDBACK_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    status.HTTP_400_BAD_REQUEST: {
        "model": ErrorResponse,
        "description": "A feedback already exists for this product and model version, or for "
        "this prediction; or no model_version was given while no model is served.",
    },
    status.HTTP_404_NOT_FOUND: {
        "model": ErrorResponse,
        "description": "No such prediction among the user's own (administrators: among all).",
    },
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorResponse,
        "description": "The model registry cannot be asked whether model_version exists.",
    },
}


def _registered_version(server: ModelServer, settings: Settings, version: str) -> str:
    """Return ``version`` when the served model's name has it in the registry, else 422."""
    served = server.current
    versions = registered_versions(server.tracking_uri, settings.MODEL_NAME)
    if served is not None and served.name == settings.MODEL_NAME:
        versions.remember(served.version)
    try:
        exists = versions.exists(version)
    except RegistryUnavailableError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=f"Cannot check model_version {version} in the model registry, which does "
            "not answer: send the prediction_id instead, or retry later.",
        ) from None
    if not exists:
        raise invalid_input(
            ("body", "model_version"),
            f"Model {settings.MODEL_NAME!r} has no registered version {version}: send the "
            "X-Model-Version header of the prediction (or its prediction_id).",
            "unknown_model_version",
        )
    return version


class FeedbackSubject(NamedTuple):
    """What a feedback is about: the product, the model version and what it predicted."""

    product_id: int
    model_version: str
    pred_category_id: int


def _required(field: str, why: str) -> RequestValidationError:
    return invalid_input(("body", field), f"{field} is required {why}.", "missing")


def _stored_product_id(prediction: Prediction) -> int | None:
    """The prediction's product id as the feedback's integer (``None``: none, or not one)."""
    stored = prediction.product_id
    if stored is None:
        return None
    try:
        return int(stored.strip())
    except ValueError:  # stored before batch product ids had to be integers
        return None


def _prediction_product(prediction: Prediction, stated: int | None) -> int:
    """The product of a feedback on ``prediction``: the stated one, which must be its own."""
    own = _stored_product_id(prediction)
    if stated is None:
        if own is None:
            raise _required("product_id", f"(prediction {prediction.id} was made without one)")
        return own
    if prediction.product_id is not None and stated != own:
        raise invalid_input(
            ("body", "product_id"),
            f"Prediction {prediction.id} was made for another product: send its product_id "
            "(the one given to /predict), leave product_id out, or leave prediction_id out.",
            "product_id_mismatch",
        )
    return stated


def _from_prediction(
    session: Session, user: User, prediction_id: int, feedback_in: FeedbackCreate
) -> FeedbackSubject:
    """The product, model version and predicted category of the prediction a feedback names.

    The feedback's ``model_version`` and ``pred_category_id``, when given, must be the
    prediction's version and most probable category, and its ``product_id`` the prediction's
    (when it had one; the default): the quality figures compare what the model answered with
    what the seller chose, so a feedback that contradicts its prediction would corrupt them.

    Only the user who asked for the prediction (or an administrator) may answer it: another
    user's prediction is answered as an unknown one, which tells nothing about it.

    Raises:
        HTTPException: 404 for an unknown prediction or another user's, 422 for a feedback
            that contradicts it (or names no product when the prediction had none).
    """
    # Locked until the feedback commits: concurrent feedbacks on one prediction then take turns,
    # and each loser is answered as a sequential duplicate is (DUPLICATE_PREDICTION_FEEDBACK),
    # whichever of the two unique constraints PostgreSQL would have checked first.
    prediction = get_prediction(session, prediction_id, for_update=True)
    if prediction is None or (prediction.user_id != user.id and not user.is_admin):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=PREDICTION_NOT_FOUND)
    stated = feedback_in.model_version
    if stated is not None and stated != prediction.model_version:
        raise invalid_input(
            ("body", "model_version"),
            f"Prediction {prediction.id} was made by model version {prediction.model_version}, "
            f"not {stated}: leave model_version out or send {prediction.model_version}.",
            "model_version_mismatch",
        )
    product_id = _prediction_product(prediction, feedback_in.product_id)
    top = top_category(prediction.results)  # never None: a prediction stores a category
    chosen = feedback_in.pred_category_id
    if top is None or (chosen is not None and chosen != top):
        raise invalid_input(
            ("body", "pred_category_id"),
            f"Prediction {prediction.id}'s most probable category is {top}, not {chosen}: "
            f"leave pred_category_id out or send {top}.",
            "pred_category_id_mismatch",
        )
    return FeedbackSubject(product_id, prediction.model_version, top)


def _feedback_version(server: ModelServer, settings: Settings, feedback_in: FeedbackCreate) -> str:
    """The model version of a feedback without a prediction: a registered one, or the served."""
    if feedback_in.model_version is not None:
        return _registered_version(server, settings, feedback_in.model_version)
    served = server.current
    if served is None:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail="model_version is required while no model is being served.",
        )
    return served.version


def _feedback_of(
    session: Session,
    user: User,
    server: ModelServer,
    settings: Settings,
    feedback_in: FeedbackCreate,
) -> FeedbackSubject:
    """The product, model version and predicted category a feedback is about.

    With a ``prediction_id``: the prediction's (:func:`_from_prediction`). Without: the
    stated product, the stated (or served) version and the stated ``pred_category_id``, the
    product and the category then required.
    """
    if feedback_in.prediction_id is not None:
        return _from_prediction(session, user, feedback_in.prediction_id, feedback_in)
    product_id, pred_category_id = feedback_in.product_id, feedback_in.pred_category_id
    if product_id is None:
        raise _required("product_id", "without a prediction_id")
    if pred_category_id is None:
        raise _required("pred_category_id", "without a prediction_id")
    return FeedbackSubject(
        product_id, _feedback_version(server, settings, feedback_in), pred_category_id
    )


@router.post(
    "/",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    responses=FEEDBACK_ERRORS,
)
def create_feedback_route(
    session: SessionDep,
    current_user: CurrentUser,
    server: ModelServerDep,
    settings: SettingsDep,
    feedback_in: FeedbackCreate,
) -> Any:
    """Record the category the seller chose (one per prediction, and per product and version).

    A `prediction_id` must be one of the user's own predictions (administrators: any).

    With a `prediction_id`, the model version and the predicted category are the prediction's
    (a different `model_version` or `pred_category_id` is refused), and so is its product when it
    was made for one (the default; another `product_id` is refused). Without one,
    `model_version` must be a registered version of the served model (default: the version
    being served), and `product_id` and `pred_category_id` are required.
    """
    subject = _feedback_of(session, current_user, server, settings, feedback_in)
    # The usual answer, the same on both databases (a row breaking both unique constraints is
    # reported by the one each database checks first); the prediction's row lock (above)
    # makes concurrent feedbacks on it come here one after the other.
    if feedback_in.prediction_id is not None and has_feedback_for_prediction(
        session, feedback_in.prediction_id
    ):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=DUPLICATE_PREDICTION_FEEDBACK)
    feedback = Feedback(
        product_id=subject.product_id,
        model_version=subject.model_version,
        real_category_id=feedback_in.real_category_id,
        pred_category_id=subject.pred_category_id,
        prediction_id=feedback_in.prediction_id,
        user_id=current_user.id,
    )
    return add_feedback(session, feedback)
