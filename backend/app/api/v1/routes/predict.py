"""Predict the category of products with the model being served, storing every prediction.

The handlers are coroutines: what ``POST /predict/`` and ``POST /predict/batch`` are sent is
read and checked by :mod:`app.api.predict_request` (image decoding in a worker thread), the
model is called by :func:`app.inference.predictions.predict` (in a worker thread, gathered with
concurrent requests when micro-batching is on), and the predictions are stored in one more
worker-thread step, so the event loop never blocks.
"""

from typing import Annotated, Final

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from app.api.deps import (
    CurrentUser,
    ImageStoreDep,
    ModelServerDep,
    PredictionBatcherDep,
    SessionDep,
    SettingsDep,
    ShadowDep,
)
from app.api.predict_request import (
    PREDICT_REQUEST_BODY,
    SubmittedProduct,
    batch_requests,
    check_batch_size,
    product_request,
    read_submitted_product,
)
from app.db.models import Prediction
from app.inference.image_keeping import keep_images
from app.inference.images import decode_side
from app.inference.model_server import ModelServer, ServedModel
from app.inference.predictions import (
    ModelAnswer,
    PredictionBatcher,
    ProductRequest,
    predict,
    store_predictions,
)
from app.inference.shadow import ShadowPredictor, shadow_after_commit
from app.schemas.bounds import INT32_MAX
from app.schemas.common import ErrorResponse
from app.schemas.predictions import BatchPredictionResult, BatchProduct, PredictionResult
from product_classifier.image_store import ImageStore

router = APIRouter(prefix="/predict", tags=["predict"])

ERROR_RESPONSES: Final[dict[int | str, dict[str, object]]] = {
    status.HTTP_400_BAD_REQUEST: {
        "model": ErrorResponse,
        "description": "Invalid input (nothing to predict from, not a JPEG, broken upload).",
    },
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorResponse, "description": "Not logged in."},
    status.HTTP_403_FORBIDDEN: {"model": ErrorResponse, "description": "Inactive user."},
    status.HTTP_413_CONTENT_TOO_LARGE: {
        "model": ErrorResponse,
        "description": "Body, image or decoded pixels over the configured limits.",
    },
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorResponse,
        "description": "No model is registered under the served alias yet.",
    },
}

LimitQuery = Annotated[
    int | None,
    Query(ge=1, le=INT32_MAX, description="Return only the `limit` most probable categories."),
]


def no_model_message(server: ModelServer) -> str:
    """Tell the caller that no model is served, and why: not registered, failed, unreachable."""
    name = server.model_name
    problem = server.registry_problem
    if problem is not None:
        return (
            f"No model is being served: the model registry does not answer ({problem.error}), "
            f"so {server.model_uri} cannot be loaded yet. Retry later."
        )
    target = server.alias_target
    if target is not None and target.version and target.load_error:
        return (
            f"No model is being served: {server.model_uri} points at version "
            f"{target.version}, which failed to load ({target.load_error}). Promote a version "
            f"that loads: `python -m scripts.promote_model --name {name} --version N "
            f"--alias {server.model_alias}`."
        )
    return (
        f"No model is being served: nothing is registered as {server.model_uri} yet. "
        f"Train a model with `python -m scripts.train_{name}_model --input-dir DATASET "
        "--output-dir OUT` from datascience/ (or run ./scripts/start.sh, which trains small "
        f"models), then promote a version: `python -m scripts.promote_model --name {name} "
        f"--version N --alias {server.model_alias}`."
    )


def _served_model(server: ModelServer) -> ServedModel:
    served = server.current
    if served is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=no_model_message(server))
    return served


def _store(
    session: Session,
    served: ServedModel,
    requests: list[ProductRequest],
    answer: ModelAnswer,
    image_store: ImageStore | None,
    *,
    shadow: ShadowPredictor | None,
    user_id: int,
    limit: int | None,
) -> list[Prediction]:
    stored = store_predictions(session, served, requests, answer, user_id=user_id, limit=limit)
    keep_images(image_store, (request.image for request in requests))
    shadow_after_commit(
        session,
        shadow,
        served.version,
        [row.id for row in stored],
        [request.to_model_input() for request in requests],
    )
    return stored


async def _predict_and_store(
    session: Session,
    served: ServedModel,
    requests: list[ProductRequest],
    batcher: PredictionBatcher | None,
    image_store: ImageStore | None,
    *,
    shadow: ShadowPredictor | None,
    user_id: int,
    limit: int | None,
) -> list[Prediction]:
    """Predict the products, then store them, keep their images and queue the shadow's work."""
    answer = await predict(served, requests, batcher)
    return await anyio.to_thread.run_sync(
        lambda: _store(
            session,
            served,
            requests,
            answer,
            image_store,
            shadow=shadow,
            user_id=user_id,
            limit=limit,
        )
    )


def _answer(content: object, served: ServedModel, prediction_ids: list[int]) -> JSONResponse:
    """The JSON answer with the model and prediction headers.

    The stored rows already hold plain, checked values: they are sent as they are (no second
    validation), so the caller receives exactly what was stored.
    """
    return JSONResponse(
        content,
        headers={
            "X-Model-Name": served.name,
            "X-Model-Version": served.version,
            "X-Prediction-Id": ",".join(str(i) for i in prediction_ids),
        },
    )


@router.post(
    "/",
    response_model=list[PredictionResult],
    responses={
        **ERROR_RESPONSES,
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: {
            "model": ErrorResponse,
            "description": "A body that is neither JSON nor a form.",
        },
    },
    openapi_extra=PREDICT_REQUEST_BODY,
)
async def predict_category(
    *,
    session: SessionDep,
    current_user: CurrentUser,
    settings: SettingsDep,
    server: ModelServerDep,
    batcher: PredictionBatcherDep,
    image_store: ImageStoreDep,
    shadow: ShadowDep,
    product: Annotated[SubmittedProduct, Depends(read_submitted_product)],
    limit: LimitQuery = None,
) -> JSONResponse:
    """Predict the category of one product from its texts and/or a colour JPEG image.

    The texts come in the query (`designation`, `description`) or in the body: JSON
    `{"designation", "description"}`, or form fields beside the multipart file `image`.
    Returns the categories sorted by probability (in percent), most probable first, cut to
    `limit`. The prediction is stored; the response headers `X-Model-Name`,
    `X-Model-Version` and `X-Prediction-Id` tell which model answered and which stored
    prediction to cite in a feedback.
    """
    served = server.current
    min_side = decode_side(served.predictor) if served else None
    if product.image is None:
        request = product_request(product, settings, min_side)
    else:
        request = await anyio.to_thread.run_sync(product_request, product, settings, min_side)
    served = _served_model(server) if served is None else served
    (stored,) = await _predict_and_store(
        session,
        served,
        [request],
        batcher,
        image_store,
        shadow=shadow,
        user_id=current_user.id,
        limit=limit,
    )
    return _answer(stored.results, served, [stored.id])


@router.post("/batch", response_model=list[BatchPredictionResult], responses=ERROR_RESPONSES)
async def predict_batch(
    *,
    session: SessionDep,
    current_user: CurrentUser,
    settings: SettingsDep,
    server: ModelServerDep,
    batcher: PredictionBatcherDep,
    image_store: ImageStoreDep,
    shadow: ShadowDep,
    products: list[BatchProduct],
    limit: LimitQuery = None,
) -> JSONResponse:
    """Predict several products in one model call (at most `MAX_BATCH_SIZE`).

    Each product has texts and/or an `image` (a colour JPEG in base64). The answer has one
    result per product, in the request's order, each with the id of its stored prediction.
    Any invalid product fails the whole batch with its position in the message. The images
    of one batch share the `MAX_REQUEST_PIXELS` budget of decoded pixels.
    """
    check_batch_size(products, settings)
    served = server.current
    min_side = decode_side(served.predictor) if served else None
    if any(item.image for item in products):
        requests = await anyio.to_thread.run_sync(batch_requests, products, settings, min_side)
    else:
        requests = batch_requests(products, settings, min_side)
    served = _served_model(server) if served is None else served
    stored = await _predict_and_store(
        session,
        served,
        requests,
        batcher,
        image_store,
        shadow=shadow,
        user_id=current_user.id,
        limit=limit,
    )
    results = [
        {"product_id": row.product_id, "prediction_id": row.id, "categories": row.results}
        for row in stored
    ]
    return _answer(results, served, [row.id for row in stored])
