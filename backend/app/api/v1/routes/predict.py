"""Predict the category of products with the model being served, storing every prediction.

The handlers are plain functions: FastAPI runs them in its thread pool, so image decoding and
the model call never block the event loop.
"""

from typing import Annotated, Final

from fastapi import APIRouter, File, HTTPException, Query, UploadFile, status
from fastapi.responses import JSONResponse

from app.api.deps import CurrentUser, ModelServerDep, SessionDep, SettingsDep
from app.core.config import Settings
from app.schemas.common import ErrorResponse
from app.schemas.predictions import BatchPredictionResult, BatchProduct, PredictionResult
from app.serving.images import (
    INVALID_EXTENSION,
    ImageRejectedError,
    decode_base64_jpeg,
    decode_jpeg,
    has_jpeg_extension,
)
from app.serving.model_server import ModelServer, ServedModel
from app.serving.predictions import ProductRequest, predict_and_store

INVALID_LIMIT: Final = "Invalid value for limit. Must be a positive integer."
NO_DATA: Final = "You must provide either designation/description or an image to get a result."

router = APIRouter(prefix="/predict", tags=["predict"])

ERROR_RESPONSES: Final[dict[int | str, dict[str, object]]] = {
    status.HTTP_400_BAD_REQUEST: {"model": ErrorResponse, "description": "Invalid input."},
    status.HTTP_401_UNAUTHORIZED: {"model": ErrorResponse, "description": "Not logged in."},
    status.HTTP_403_FORBIDDEN: {"model": ErrorResponse, "description": "Inactive user."},
    status.HTTP_413_CONTENT_TOO_LARGE: {
        "model": ErrorResponse,
        "description": "Upload or image over the configured limits.",
    },
    status.HTTP_422_UNPROCESSABLE_CONTENT: {"description": "Text too long or malformed input."},
    status.HTTP_503_SERVICE_UNAVAILABLE: {
        "model": ErrorResponse,
        "description": "No model is registered under the served alias yet.",
    },
}


def no_model_message(server: ModelServer) -> str:
    """Tell the caller that no model is served, and how to get one."""
    name = server.model_name
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


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit <= 0:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=INVALID_LIMIT)


def _check_text(settings: Settings, prefix: str, **fields: str) -> None:
    for name, value in fields.items():
        if len(value) > settings.MAX_TEXT_LENGTH:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"{prefix}{name} is too long: {len(value)} characters "
                f"(maximum {settings.MAX_TEXT_LENGTH}).",
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


@router.post("/", response_model=list[PredictionResult], responses=ERROR_RESPONSES)
def predict_category(
    *,
    session: SessionDep,
    current_user: CurrentUser,
    settings: SettingsDep,
    server: ModelServerDep,
    designation: Annotated[str, Query(description="Product title.")] = "",
    description: Annotated[str, Query(description="Product description (HTML allowed).")] = "",
    limit: Annotated[
        int | None, Query(description="Return only the `limit` most probable categories.")
    ] = None,
    image: Annotated[
        UploadFile | None, File(description="A colour JPEG picture of the product.")
    ] = None,
) -> JSONResponse:
    """Predict the category of one product from its texts and/or a colour JPEG image.

    Returns the categories sorted by probability (in percent), most probable first, cut to
    `limit`. The prediction is stored; the response headers `X-Model-Name`,
    `X-Model-Version` and `X-Prediction-Id` tell which model answered and which stored
    prediction to cite in a feedback.
    """
    _check_limit(limit)
    _check_text(settings, "", designation=designation, description=description)
    decoded = None
    if image is not None:
        if not has_jpeg_extension(image.filename):
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=INVALID_EXTENSION)
        if image.size is not None and image.size > settings.MAX_UPLOAD_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"Image too large: {image.size} bytes "
                f"(maximum {settings.MAX_UPLOAD_BYTES} bytes).",
            )
        try:
            decoded = decode_jpeg(
                image.file.read(settings.MAX_UPLOAD_BYTES + 1),
                max_bytes=settings.MAX_UPLOAD_BYTES,
                max_pixels=settings.MAX_IMAGE_PIXELS,
            )
        except ImageRejectedError as error:
            raise HTTPException(error.status_code, detail=error.detail) from None
    product = ProductRequest(designation=designation, description=description, image=decoded)
    if product.is_empty:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=NO_DATA)
    served = _served_model(server)
    (stored,) = predict_and_store(session, served, [product], user_id=current_user.id, limit=limit)
    return _answer(stored.results, served, [stored.id])


@router.post("/batch", response_model=list[BatchPredictionResult], responses=ERROR_RESPONSES)
def predict_batch(
    *,
    session: SessionDep,
    current_user: CurrentUser,
    settings: SettingsDep,
    server: ModelServerDep,
    products: list[BatchProduct],
    limit: Annotated[
        int | None, Query(description="Return only the `limit` most probable categories.")
    ] = None,
) -> JSONResponse:
    """Predict several products in one model call (at most `MAX_BATCH_SIZE`).

    Each product has texts and/or an `image` (a colour JPEG in base64). The answer has one
    result per product, in the request's order, each with the id of its stored prediction.
    Any invalid product fails the whole batch with its position in the message.
    """
    _check_limit(limit)
    if not products:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="The batch is empty.")
    if len(products) > settings.MAX_BATCH_SIZE:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"Too many products: {len(products)} (maximum {settings.MAX_BATCH_SIZE}).",
        )
    requests: list[ProductRequest] = []
    for position, item in enumerate(products):
        prefix = f"Product {position}: "
        _check_text(settings, prefix, designation=item.designation, description=item.description)
        decoded = None
        if item.image:
            try:
                decoded = decode_base64_jpeg(
                    item.image,
                    max_bytes=settings.MAX_UPLOAD_BYTES,
                    max_pixels=settings.MAX_IMAGE_PIXELS,
                )
            except ImageRejectedError as error:
                raise HTTPException(error.status_code, detail=prefix + error.detail) from None
        request = ProductRequest(
            designation=item.designation,
            description=item.description,
            image=decoded,
            product_id=item.product_id,
        )
        if request.is_empty:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=prefix + NO_DATA)
        requests.append(request)
    served = _served_model(server)
    stored = predict_and_store(session, served, requests, user_id=current_user.id, limit=limit)
    results = [
        {"product_id": row.product_id, "prediction_id": row.id, "categories": row.results}
        for row in stored
    ]
    return _answer(results, served, [row.id for row in stored])
