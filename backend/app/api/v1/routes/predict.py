"""Predict the category of products with the model being served, storing every prediction.

The handlers are coroutines that hand the blocking work to ONE worker-thread step per request:
checking the user, checking the products (decoding their images), calling the model, storing
the predictions and committing them (:func:`_serve_in_one_step`), so the event loop never
blocks and a request pays for one thread hand-off. With micro-batching on, the model call is
gathered with concurrent requests' (:func:`app.inference.predictions.predict`) between a
checking step and a storing step.

The routes read the application's settings, model server, batcher, image store and shadow
from ``app.state`` and open their own unit of work (:func:`own_unit_of_work`), instead of one
FastAPI dependency each: FastAPI's dependency solving cost more than the model call.
"""

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Final

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import TokenDep, active_user, token_user
from app.api.predict_request import (
    PREDICT_REQUEST_BODY,
    DescriptionQuery,
    DesignationQuery,
    batch_requests,
    check_batch_size,
    product_request,
    submitted_product,
)
from app.api.unit_of_work import (
    commit_unit_of_work,
    opens_own_unit_of_work,
    own_unit_of_work,
)
from app.core.config import Settings
from app.db.models import Prediction
from app.inference.image_keeping import keep_images
from app.inference.images import decode_side
from app.inference.model_server import ModelServer, ServedModel
from app.inference.predictions import (
    ModelAnswer,
    PredictionBatcher,
    ProductRequest,
    call_model,
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


PrepareProducts = Callable[[int | None], list[ProductRequest]]
"""Checks the request's products (decoding their images at the given smallest side), blocking.

Raises:
    RequestValidationError: 422 for a text over ``MAX_TEXT_LENGTH`` or a batch out of bounds.
    HTTPException: 400 or 413 for an image or nothing to predict from.
"""


@dataclass(frozen=True, slots=True)
class _Serving:
    """What the predict routes use of the application (set up by its lifespan)."""

    settings: Settings
    server: ModelServer
    batcher: PredictionBatcher | None
    image_store: ImageStore | None
    shadow: ShadowPredictor | None
    session_factory: sessionmaker[Session]

    @classmethod
    def of(cls, request: Request) -> "_Serving":
        state = request.app.state
        return cls(
            state.settings,
            state.model_server,
            state.prediction_batcher,
            state.image_store,
            state.shadow,
            state.session_factory,
        )


def _checked(
    session: Session, serving: _Serving, user_id: int, prepare: PrepareProducts
) -> tuple[ServedModel, list[ProductRequest]]:
    """Check the user (404, 403), then the products (4xx), then that a model is served (503)."""
    active_user(session, user_id)
    served = serving.server.current
    requests = prepare(decode_side(served.predictor) if served else None)
    served = served or serving.server.current  # it may have loaded meanwhile
    if served is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=no_model_message(serving.server)
        )
    return served, requests


def _store_and_commit(
    session: Session,
    serving: _Serving,
    served: ServedModel,
    requests: list[ProductRequest],
    answer: ModelAnswer,
    *,
    user_id: int,
    limit: int | None,
) -> list[Prediction]:
    """Store the predictions, keep the images, queue the shadow's work, and commit."""
    stored = store_predictions(session, served, requests, answer, user_id=user_id, limit=limit)
    keep_images(serving.image_store, (request.image for request in requests))
    shadow_after_commit(
        session,
        serving.shadow,
        served.version,
        [row.id for row in stored],
        [request.to_model_input() for request in requests],
    )
    commit_unit_of_work(session)
    return stored


def _serve_in_one_step(
    session: Session,
    serving: _Serving,
    user_id: int,
    prepare: PrepareProducts,
    limit: int | None,
) -> tuple[ServedModel, list[Prediction]]:
    """The whole request in this (worker) thread: check, predict, store and commit."""
    served, requests = _checked(session, serving, user_id, prepare)
    answer = call_model(served, requests)
    stored = _store_and_commit(
        session, serving, served, requests, answer, user_id=user_id, limit=limit
    )
    return served, stored


async def _serve(
    serving: _Serving, user_id: int, prepare: PrepareProducts, limit: int | None
) -> tuple[ServedModel, list[Prediction]]:
    """Check, predict, store and commit, in one unit of work, off the event loop.

    One worker-thread step; with micro-batching on, a checking step, the gathered model call
    and a storing step.
    """
    async with own_unit_of_work(serving.session_factory) as session:
        if serving.batcher is None:
            return await anyio.to_thread.run_sync(
                _serve_in_one_step, session, serving, user_id, prepare, limit
            )
        served, requests = await anyio.to_thread.run_sync(
            _checked, session, serving, user_id, prepare
        )
        answer = await predict(served, requests, serving.batcher)
        stored = await anyio.to_thread.run_sync(
            partial(
                _store_and_commit,
                session,
                serving,
                served,
                requests,
                answer,
                user_id=user_id,
                limit=limit,
            )
        )
        return served, stored


def _check_user(serving: _Serving, user_id: int) -> None:
    with serving.session_factory() as session:
        active_user(session, user_id)


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
@opens_own_unit_of_work
async def predict_category(
    request: Request,
    token: TokenDep,
    designation: DesignationQuery = None,
    description: DescriptionQuery = None,
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
    serving = _Serving.of(request)
    user_id = token_user(token, serving.settings)
    async with AsyncExitStack() as stack:
        try:
            product = await stack.enter_async_context(
                submitted_product(request, designation, description)
            )
        except (HTTPException, RequestValidationError):
            # A missing or inactive user is answered first (404, 403), as for valid input.
            await anyio.to_thread.run_sync(_check_user, serving, user_id)
            raise
        settings = serving.settings
        served, (stored,) = await _serve(
            serving, user_id, lambda min_side: [product_request(product, settings, min_side)], limit
        )
    return _answer(stored.results, served, [stored.id])


def _batch_requests(
    products: list[BatchProduct], settings: Settings, min_side: int | None
) -> list[ProductRequest]:
    check_batch_size(products, settings)
    return batch_requests(products, settings, min_side)


@router.post("/batch", response_model=list[BatchPredictionResult], responses=ERROR_RESPONSES)
@opens_own_unit_of_work
async def predict_batch(
    request: Request,
    token: TokenDep,
    products: list[BatchProduct],
    limit: LimitQuery = None,
) -> JSONResponse:
    """Predict several products in one model call (at most `MAX_BATCH_SIZE`).

    Each product has texts and/or an `image` (a colour JPEG in base64). The answer has one
    result per product, in the request's order, each with the id of its stored prediction.
    Any invalid product fails the whole batch with its position in the message. The images
    of one batch share the `MAX_REQUEST_PIXELS` budget of decoded pixels.
    """
    serving = _Serving.of(request)
    user_id = token_user(token, serving.settings)
    served, stored = await _serve(
        serving, user_id, partial(_batch_requests, products, serving.settings), limit
    )
    results = [
        {"product_id": row.product_id, "prediction_id": row.id, "categories": row.results}
        for row in stored
    ]
    return _answer(results, served, [row.id for row in stored])
