"""Read what ``POST /predict/`` and ``POST /predict/batch`` are sent, into checked products.

``POST /predict/`` takes texts in the query or in the body, and an image.

The original clients send ``designation`` and ``description`` in the query string and the image
as a multipart file; long texts do not fit in a URL, so the texts may also come in the body:

- ``application/json``: ``{"designation": "...", "description": "..."}`` (text only);
- ``multipart/form-data``: form fields ``designation`` and ``description`` beside the file
  ``image`` (as the web page sends them); ``application/x-www-form-urlencoded`` for text only.

A text sent both in the query and in the body is refused (422), as is any other body type
(415). :func:`product_request` and :func:`batch_requests` then check the text lengths, decode
the images (JPEG only, within the size and pixel limits of the settings) and refuse products
with nothing to predict from, giving the :class:`~app.inference.predictions.ProductRequest`
values the model is called with.
"""

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import FormData, UploadFile

from app.api.errors import invalid_input
from app.api.query_parameters import extra_inputs_error
from app.core.config import Settings
from app.inference.images import (
    DecodedImage,
    ImageRejectedError,
    PixelBudget,
    check_declared_format,
    declarations,
    decode_base64_jpeg,
    decode_jpeg,
    has_jpeg_extension,
    wrong_name_message,
)
from app.inference.model_inputs import ModelInputs
from app.inference.predictions import ProductRequest
from app.schemas.predictions import BatchProduct

NO_DATA: Final = "You must provide either designation/description or an image to get a result."
TEXT_FIELDS: Final = ("designation", "description")
FORM_TYPES: Final = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_FORM_FIELDS: Final = 16


class ProductText(BaseModel):
    """The texts of one product, as a JSON body of ``POST /predict/``."""

    model_config = ConfigDict(extra="forbid")

    designation: str = Field(default="", description="Product title.")
    description: str = Field(default="", description="Product description (HTML allowed).")


_TEXT_PROPERTIES: Final[dict[str, Any]] = ProductText.model_json_schema()["properties"]

PREDICT_REQUEST_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": False,
        "description": "Optional: the texts (instead of the query) and/or the image.",
        "content": {
            "application/json": {"schema": ProductText.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        **_TEXT_PROPERTIES,
                        "image": {
                            "type": "string",
                            "format": "binary",
                            "description": "A colour JPEG picture of the product.",
                        },
                    },
                }
            },
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": _TEXT_PROPERTIES}
            },
        },
    }
}
"""The OpenAPI ``requestBody`` of ``POST /predict/`` (its body is read by hand, so that one
route takes JSON and forms)."""


@dataclass(frozen=True, slots=True)
class SubmittedProduct:
    """The texts and the image file sent to ``POST /predict/``, and where each text was."""

    designation: str
    description: str
    locations: dict[str, tuple[str | int, ...]]
    """Text field name → where it came from (``("query", "designation")``...), for errors."""
    image: UploadFile | None


def _duplicate(name: str) -> RequestValidationError:
    return invalid_input(
        ("body", name),
        f"{name} was sent both in the query and in the body: send it once.",
        "duplicate_field",
    )


FORM_FIELDS: Final = frozenset({*TEXT_FIELDS, "image"})


def _refuse_unknown(names: Iterable[str], known: frozenset[str], where: str) -> None:
    """A 422 for every name the route does not take (a misspelt ``descripton`` would be lost).

    Raises:
        RequestValidationError: ``extra_forbidden`` at each unknown name, as the JSON bodies'.
    """
    unknown = sorted({name for name in names if name not in known})
    if unknown:
        raise extra_inputs_error(unknown, where)


def _form_texts(form: FormData) -> dict[str, str]:
    texts = {}
    for name in TEXT_FIELDS:
        value = form.get(name)  # a field sent twice was refused by the input boundary
        if value is None:
            continue
        if not isinstance(value, str):
            raise invalid_input(("body", name), f"{name} must be text, not a file.", "string_type")
        texts[name] = value
    return texts


def _form_image(form: FormData) -> UploadFile | None:
    value = form.get("image")
    if isinstance(value, str):
        raise invalid_input(
            ("body", "image"),
            'image must be a file part (Content-Disposition: form-data; name="image"; '
            'filename="product.jpg").',
            "file_type",
        )
    if value is not None and not value.filename and not value.size:
        return None  # a browser's file input left empty: a nameless, empty part
    return value


BODY_NOT_READ: Final = "There was an error parsing the body"
"""FastAPI's words for a body it cannot parse (400), which this route's own parsing keeps."""


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


async def _json_texts(request: Request) -> dict[str, str]:
    try:
        document = await request.json()
    except json.JSONDecodeError:
        raise invalid_input(("body",), "The body is not valid JSON.", "json_invalid") from None
    except (ValueError, RecursionError) as error:
        # Valid JSON that Python will not read: nested too deep, a number of over 4,300 digits.
        reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail=f"{BODY_NOT_READ}: {reason}."
        ) from None
    try:
        text = ProductText.model_validate(document)
    except ValidationError as error:
        errors = [{**entry, "loc": ("body", *entry["loc"])} for entry in error.errors()]
        raise RequestValidationError(errors) from None
    return {name: getattr(text, name) for name in text.model_fields_set}


DesignationQuery = Annotated[
    str | None, Query(description="Product title (or send it in the body).")
]
DescriptionQuery = Annotated[
    str | None, Query(description="Product description, HTML allowed (or send it in the body).")
]


@asynccontextmanager
async def submitted_product(
    request: Request, designation: str | None, description: str | None
) -> AsyncIterator[SubmittedProduct]:
    """Gather the texts and the image of ``POST /predict/``, wherever they were sent.

    Args:
        request: The request, whose body is read here.
        designation: The ``designation`` query parameter, if sent.
        description: The ``description`` query parameter, if sent.

    Yields:
        The product as sent; an uploaded form is closed when the block ends.

    Raises:
        RequestValidationError: a text sent twice, a JSON body that is not
            ``{"designation", "description"}``, an ``image`` that is not a file.
        HTTPException: 415 for a body that is neither JSON nor a form.
    """
    texts = {
        name: value
        for name, value in (("designation", designation), ("description", description))
        if value is not None
    }
    locations: dict[str, tuple[str | int, ...]] = {name: ("query", name) for name in texts}
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form: FormData | None = None
    image = None
    body_texts: dict[str, str] = {}
    if media_type in FORM_TYPES:
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
        _refuse_unknown(form.keys(), FORM_FIELDS, "body")
        body_texts = _form_texts(form)
        image = _form_image(form)
    elif _is_json(media_type):  # a body without Content-Type is a 415, as on FastAPI's routes
        body_texts = await _json_texts(request)
    elif await request.body():
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="Send the texts as JSON (application/json) or as form fields, and the "
            "image as a multipart/form-data file named image.",
        )
    for name, value in body_texts.items():
        if name in texts:
            raise _duplicate(name)
        texts[name] = value
        locations[name] = ("body", name)
    try:
        yield SubmittedProduct(
            designation=texts.get("designation", ""),
            description=texts.get("description", ""),
            locations=locations,
            image=image,
        )
    finally:
        if form is not None:
            await form.close()


def check_text(settings: Settings, loc: tuple[str | int, ...], value: str) -> None:
    """Refuse a text over ``MAX_TEXT_LENGTH`` characters.

    Raises:
        RequestValidationError: 422 ``string_too_long`` naming the limit, at ``loc``.
    """
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
    image: UploadFile, settings: Settings, min_side: int | None, budget: PixelBudget
) -> DecodedImage:
    if not has_jpeg_extension(image.filename):
        # Read the bytes to say whether they contradict the name (a JPEG named .png).
        data = image.file.read(settings.MAX_UPLOAD_BYTES + 1)
        detail = wrong_name_message(data, image.filename, image.content_type)
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=detail)
    if image.size is not None and image.size > settings.MAX_UPLOAD_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"Image too large: {image.size} bytes "
            f"(maximum {settings.MAX_UPLOAD_BYTES} bytes).",
        )
    data = image.file.read(settings.MAX_UPLOAD_BYTES + 1)
    try:
        if len(data) <= settings.MAX_UPLOAD_BYTES:  # else decode_jpeg answers 413
            check_declared_format(data, declarations(image.filename, image.content_type))
        return decode_jpeg(
            data,
            max_bytes=settings.MAX_UPLOAD_BYTES,
            max_pixels=settings.MAX_IMAGE_PIXELS,
            min_side=min_side,
            budget=budget,
        )
    except ImageRejectedError as error:
        raise _rejected(error) from None


def _refuse_unreadable(request: ProductRequest, inputs: ModelInputs | None, prefix: str) -> None:
    if request.is_empty:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=prefix + NO_DATA)
    missing = inputs.missing(request) if inputs is not None else None
    if missing is not None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=prefix + missing)


def product_request(
    product: SubmittedProduct, settings: Settings, inputs: ModelInputs | None
) -> ProductRequest:
    """Check the product sent to ``POST /predict/`` and decode its image.

    Blocking when the product has an image (the decoding): call it in a worker thread then.

    Args:
        product: What was sent (:func:`submitted_product`).
        settings: The application's limits.
        inputs: What the served model reads (``None``: no model yet; images decoded whole).

    Raises:
        RequestValidationError: 422 for a text over ``MAX_TEXT_LENGTH``.
        HTTPException: 400 for an image that is not a colour JPEG (or whose file name or
            declared content type contradicts its real format), nothing to predict from or
            nothing the served model reads; 413 for an image over the size or pixel limits.
    """
    min_side = inputs.min_side if inputs is not None else None
    for name, loc in product.locations.items():
        check_text(settings, loc, getattr(product, name))
    decoded = None
    if product.image is not None:
        budget = PixelBudget(settings.MAX_REQUEST_PIXELS)
        decoded = _uploaded_image(product.image, settings, min_side, budget)
    request = ProductRequest(
        designation=product.designation, description=product.description, image=decoded
    )
    _refuse_unreadable(request, inputs, "")
    return request


def check_batch_size(products: list[BatchProduct], settings: Settings) -> None:
    """Refuse an empty batch, or one of more than ``MAX_BATCH_SIZE`` products.

    Raises:
        RequestValidationError: 422 ``too_short`` or ``too_long``.
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


def batch_requests(
    products: list[BatchProduct], settings: Settings, inputs: ModelInputs | None
) -> list[ProductRequest]:
    """Check every product of ``POST /predict/batch`` and decode its base64 image.

    The images of the batch share one ``MAX_REQUEST_PIXELS`` budget. Blocking when a product
    has an image: call it in a worker thread then.

    Args:
        products: The batch, already of an accepted size (:func:`check_batch_size`).
        settings: The application's limits.
        inputs: What the served model reads (``None``: no model yet; images decoded whole).

    Returns:
        The products in the request's order.

    Raises:
        RequestValidationError: 422 for a text over ``MAX_TEXT_LENGTH``.
        HTTPException: 400 or 413 as :func:`product_request`, the message starting with the
            product's position.
    """
    budget = PixelBudget(settings.MAX_REQUEST_PIXELS)
    min_side = inputs.min_side if inputs is not None else None
    requests: list[ProductRequest] = []
    for position, item in enumerate(products):
        prefix = f"Product {position}: "
        check_text(settings, ("body", position, "designation"), item.designation)
        check_text(settings, ("body", position, "description"), item.description)
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
        _refuse_unreadable(request, inputs, prefix)
        requests.append(request)
    return requests
