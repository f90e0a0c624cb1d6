"""Predict the category of products with the model being served, storing every prediction.

The handlers are plain functions: FastAPI runs them in its thread pool, so image decoding and
the model call never block the event loop. What ``POST /predict/`` is sent (query, JSON or form)
is read by :mod:`app.api.predict_input`.
"""

from typing import Annotated, Final

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.responses import JSONResponse

from app.api.deps import (
    CurrentUser,
    ImageStoreDep,
    ModelServerDep,
    SessionDep,
    SettingsDep,
    ShadowDep,
)
from app.api.errors import invalid_input
from app.api.predict_input import PREDICT_REQUEST_BODY, SubmittedProduct, read_submitted_product
from app.core.config import Settings
from app.schemas.bounds import INT32_MAX
from app.schemas.common import ErrorResponse
from app.schemas.predictions import BatchPredictionResult, BatchProduct, PredictionResult
from app.serving.image_keeping import keep_images
from app.serving.images import (
    INVALID_EXTENSION,
    DecodedImage,
    ImageRejectedError,
    PixelBudget,
    decode_base64_jpeg,
    decode_jpeg,
    decode_side,
    has_jpeg_extension,
)
from app.serving.model_server import ModelServer, ServedModel
from app.serving.predictions import ProductRequest, predict_and_store
from app.serving.shadow import shadow_after_commit

NO_DATA: Final = "You must provide either designation/description or an image to get a result."

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


def _check_text(settings: Settings, loc: tuple[str | int, ...], value: str) -> None:
    """Refuse a text over ``MAX_TEXT_LENGTH`` characters (422 naming the limit)."""
    if len(value) > settings.MAX_TEXT_LENGTH:
        raise invalid_input(
            loc,
            f"{loc[-1]} is too long: {len(value)} characters (maximum {settings.MAX_TEXT_LENGTH}, "
            "MAX_TEXT_LENGTH).",
            "string_too_long",
        )


def _rejected(error: ImageRejectedError, prefix: str = "") -> HTTPException:
    return HTTPException(error.status_code, detail=prefix + error.detail)


def _uploaded_image(
    product: SubmittedProduct, settings: Settings, min_side: int | None, budget: PixelBudget
) -> DecodedImage | None:
    image = product.image
    if image is None:
        return None
    if not has_jpeg_extension(image.filename):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=INVALID_EXTENSION)
    if image.size is not None and image.size > settings.MAX_UPLOAD_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"Image too large: {image.size} bytes "
            f"(maximum {settings.MAX_UPLOAD_BYTES} bytes).",
        )
    try:
        return decode_jpeg(
            image.file.read(settings.MAX_UPLOAD_BYTES + 1),
            max_bytes=settings.MAX_UPLOAD_BYTES,
            max_pixels=settings.MAX_IMAGE_PIXELS,
            min_side=min_side,
            budget=budget,
        )
    except ImageRejectedError as error:
        raise _rejected(error) from None


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
def predict_category(
    *,
    session: SessionDep,
    current_user: CurrentUser,
    settings: SettingsDep,
    server: ModelServerDep,
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
    for name, loc in product.locations.items():
        _check_text(settings, loc, getattr(product, name))
    served = server.current
    min_side = decode_side(served.predictor) if served else None
    decoded = _uploaded_image(product, settings, min_side, PixelBudget(settings.MAX_REQUEST_PIXELS))
    request = ProductRequest(
        designation=product.designation, description=product.description, image=decoded
    )
    if request.is_empty:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=NO_DATA)
    served = _served_model(server) if served is None else served
    (stored,) = predict_and_store(session, served, [request], user_id=current_user.id, limit=limit)
    keep_images(image_store, [request.image])
    shadow_after_commit(session, shadow, served.version, [stored.id], [request.to_model_input()])
    return _answer(stored.results, served, [stored.id])


@router.post("/batch", response_model=list[BatchPredictionResult], responses=ERROR_RESPONSES)
def predict_batch(
    *,
    session: SessionDep,
    current_user: CurrentUser,
    settings: SettingsDep,
    server: ModelServerDep,
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
    if not products:
        raise invalid_input(("body",), "The batch is empty.", "too_short")
    if len(products) > settings.MAX_BATCH_SIZE:
        raise invalid_input(
            ("body",),
            f"Too many products: {len(products)} (maximum {settings.MAX_BATCH_SIZE}, "
            "MAX_BATCH_SIZE).",
            "too_long",
        )
    served = server.current
    min_side = decode_side(served.predictor) if served else None
    budget = PixelBudget(settings.MAX_REQUEST_PIXELS)
    requests: list[ProductRequest] = []
    for position, item in enumerate(products):
        prefix = f"Product {position}: "
        _check_text(settings, ("body", position, "designation"), item.designation)
        _check_text(settings, ("body", position, "description"), item.description)
        decoded = None
        if item.image:
            try:
                decoded = decode_base64_jpeg(
                    item.image,
                    max_bytes=settings.MAX_UPLOAD_BYTES,
                    max_pixels=settings.MAX_IMAGE_PIXELS,
                    min_side=min_side,
                    budget=budget,
                )
            except ImageRejectedError as error:
                raise _rejected(error, prefix) from None
        request = ProductRequest(
            designation=item.designation,
            description=item.description,
            image=decoded,
            product_id=item.product_id,
        )
        if request.is_empty:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=prefix + NO_DATA)
        requests.append(request)
    served = _served_model(server) if served is None else served
    stored = predict_and_store(session, served, requests, user_id=current_user.id, limit=limit)
    keep_images(image_store, (request.image for request in requests))
    shadow_after_commit(
        session,
        shadow,
        served.version,
        [row.id for row in stored],
        [request.to_model_input() for request in requests],
    )
    results = [
        {"product_id": row.product_id, "prediction_id": row.id, "categories": row.results}
        for row in stored
    ]
    return _answer(results, served, [row.id for row in stored])
