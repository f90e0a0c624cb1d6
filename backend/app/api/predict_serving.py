"""The blocking steps of serving ``POST /predict/`` and ``POST /predict/batch``.

A request is checked (its user: 401, 403; its products: 4xx, images decoded; a model served:
503), predicted, stored and committed. :func:`serve_in_one_step` runs it all in one worker
thread for one request; :mod:`app.api.request_batching` runs the same steps for the requests
gathered in one batch.
"""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status
from sqlalchemy.orm import Session, sessionmaker

from app.api.deps import TokenBearer, check_active_user
from app.api.unit_of_work import commit_unit_of_work
from app.core.config import Settings
from app.db.models import Prediction
from app.inference.image_keeping import keep_images
from app.inference.model_inputs import ModelInputs
from app.inference.model_server import ModelServer, ServedModel
from app.inference.predictions import (
    ModelAnswer,
    ProductRequest,
    call_model,
    prediction_rows,
    save_predictions,
)
from app.inference.shadow import ShadowPredictor, shadow_after_commit
from product_classifier.image_store import ImageStore

PrepareProducts = Callable[[ModelInputs | None], list[ProductRequest]]
"""Checks the request's products for what the served model reads (``None``: no model), blocking.

Raises:
    RequestValidationError: 422 for a text over ``MAX_TEXT_LENGTH`` or a batch out of bounds.
    HTTPException: 400 or 413 for an image, or nothing (the served model reads) to predict from.
"""


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


@dataclass(frozen=True, slots=True)
class Serving:
    """What the predict routes use of the application (set up by its lifespan)."""

    settings: Settings
    server: ModelServer
    image_store: ImageStore | None
    shadow: ShadowPredictor | None
    session_factory: sessionmaker[Session]

    @classmethod
    def of(cls, request: Request) -> "Serving":
        """The application's serving objects, read from ``request.app.state``."""
        state = request.app.state
        return cls(
            state.settings,
            state.model_server,
            state.image_store,
            state.shadow,
            state.session_factory,
        )


def served_or_503(serving: Serving, served: ServedModel | None) -> ServedModel:
    """``served``, or the model that loaded meanwhile; 503 when there is none.

    Raises:
        HTTPException: 503 with :func:`no_model_message`.
    """
    served = served or serving.server.current
    if served is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail=no_model_message(serving.server)
        )
    return served


def check_request(
    session: Session,
    served: ServedModel | None,
    bearer: TokenBearer,
    prepare: PrepareProducts,
) -> list[ProductRequest]:
    """Check the user (401, 403), then the products (4xx), decoded for ``served``."""
    check_active_user(session, bearer)
    return prepare(ModelInputs.of(served) if served else None)


def store_and_queue(
    session: Session,
    serving: Serving,
    served: ServedModel,
    requests: list[ProductRequest],
    answer: ModelAnswer,
    *,
    user_id: int,
    limit: int | None,
) -> list[Prediction]:
    """Add the predictions (flushed), keep the images and queue the shadow's work; no commit."""
    stored = prediction_rows(served, requests, answer, user_id=user_id, limit=limit)
    save_predictions(session, served, stored)
    keep_and_shadow(session, serving, served, requests, stored)
    return stored


def keep_and_shadow(
    session: Session,
    serving: Serving,
    served: ServedModel,
    requests: list[ProductRequest],
    stored: list[Prediction],
) -> None:
    """Keep the request's images; hand it to the shadow once ``session`` commits."""
    keep_images(serving.image_store, (request.image for request in requests))
    shadow_after_commit(
        session,
        serving.shadow,
        served.version,
        [row.id for row in stored],
        [request.to_model_input() for request in requests],
    )


def serve_in_one_step(
    session: Session,
    serving: Serving,
    bearer: TokenBearer,
    prepare: PrepareProducts,
    limit: int | None,
) -> tuple[ServedModel, list[Prediction]]:
    """The whole request in this (worker) thread: check, predict, store and commit."""
    current = serving.server.current
    requests = check_request(session, current, bearer, prepare)
    served = served_or_503(serving, current)
    answer = call_model(served, requests)
    stored = store_and_queue(
        session, serving, served, requests, answer, user_id=bearer.user_id, limit=limit
    )
    commit_unit_of_work(session)
    return served, stored
