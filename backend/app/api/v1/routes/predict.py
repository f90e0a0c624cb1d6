"""Predict the category of products with the model being served, storing every prediction.

The handlers are coroutines that hand the blocking work to ONE worker-thread step per request:
checking the user, checking the products (decoding their images), calling the model, storing
the predictions and committing them (:func:`app.api.predict_serving.serve_in_one_step`), so
the event loop never blocks and a request pays for one thread hand-off. With micro-batching on,
the requests that arrive together are served together in one such step
(:mod:`app.api.request_batching`): one model call, one insert and one commit per batch.

The routes read the application's settings, model server, batcher, image store and shadow
from ``app.state`` and open their own unit of work, instead of one FastAPI dependency each:
FastAPI's dependency solving cost more than the model call.
"""

from contextlib import AsyncExitStack
from functools import partial
from typing import Annotated, Final

import anyio.to_thread
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.api.deps import TokenBearer, TokenDep, check_active_user, token_user
from app.api.params import WholeNumber
from app.api.predict_request import (
    PREDICT_REQUEST_BODY,
    DescriptionQuery,
    DesignationQuery,
    batch_requests,
    check_batch_size,
    product_request,
    submitted_product,
)
from app.api.predict_serving import PrepareProducts, Serving, serve_in_one_step
from app.api.request_batching import RequestBatcher, ServeJob, serve_gathered
from app.api.unit_of_work import opens_own_unit_of_work, own_unit_of_work
from app.core.config import Settings
from app.db.models import Prediction
from app.inference.model_inputs import ModelInputs
from app.inference.model_server import ServedModel
from app.inference.predictions import ProductRequest
from app.schemas.bounds import INT32_MAX
from app.schemas.common import ErrorResponse
from app.schemas.predictions import BatchPredictionResult, BatchProduct, PredictionResult

router = APIRouter(prefix="/predict", tags=["predict"])

ERROR_RESPONSES: Final[dict[int | str, dict[str, object]]] = {
    status.HTTP_400_BAD_REQUEST: {
        "model": ErrorResponse,
        "description": "Invalid input (nothing the served model reads to predict from, not a "
        "JPEG, broken upload).",
    },
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
    WholeNumber,
]


async def _serve(
    request: Request,
    serving: Serving,
    bearer: TokenBearer,
    prepare: PrepareProducts,
    *,
    limit: int | None,
    products: int,
) -> tuple[ServedModel, list[Prediction]]:
    """Check, predict, store and commit ``products`` products, off the event loop.

    In one worker-thread step and unit of work of its own; with micro-batching on, in the next
    batch of gathered requests.
    """
    batcher: RequestBatcher | None = request.app.state.prediction_batcher
    if batcher is not None:
        job = ServeJob(serving, bearer, prepare, limit)
        return await serve_gathered(batcher, job, products)
    async with own_unit_of_work(serving.session_factory) as session:
        return await anyio.to_thread.run_sync(
            serve_in_one_step, session, serving, bearer, prepare, limit
        )


def _check_user(serving: Serving, bearer: TokenBearer) -> None:
    with serving.session_factory() as session:
        check_active_user(session, bearer)


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
    serving = Serving.of(request)
    bearer = token_user(token, serving.settings)
    async with AsyncExitStack() as stack:
        try:
            product = await stack.enter_async_context(
                submitted_product(request, designation, description)
            )
        except (HTTPException, RequestValidationError):
            # A missing or inactive user is answered first (401, 403), as for valid input.
            await anyio.to_thread.run_sync(_check_user, serving, bearer)
            raise
        settings = serving.settings
        served, (stored,) = await _serve(
            request,
            serving,
            bearer,
            lambda inputs: [product_request(product, settings, inputs)],
            limit=limit,
            products=1,
        )
    return _answer(stored.results, served, [stored.id])


def _batch_requests(
    products: list[BatchProduct], settings: Settings, inputs: ModelInputs | None
) -> list[ProductRequest]:
    check_batch_size(products, settings)
    return batch_requests(products, settings, inputs)


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
    serving = Serving.of(request)
    bearer = token_user(token, serving.settings)
    served, stored = await _serve(
        request,
        serving,
        bearer,
        partial(_batch_requests, products, serving.settings),
        limit=limit,
        products=len(products),
    )
    results = [
        {"product_id": row.product_id, "prediction_id": row.id, "categories": row.results}
        for row in stored
    ]
    return _answer(results, served, [row.id for row in stored])
