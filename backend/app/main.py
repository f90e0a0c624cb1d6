"""The FastAPI application: ``uvicorn app.main:app`` (from backend/) serves it.

:func:`create_app` builds an application from settings; its lifespan opens the database
engine, loads the production model and starts following its alias, and undoes all of that on
shutdown. The web page in ``frontend/`` is served at ``/`` when it exists.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.formparsers import MultiPartParser

from app.api.body_limit import BodySizeLimitMiddleware
from app.api.database_unavailable import install_database_error_handler
from app.api.docs_policy import DocsContentPolicy
from app.api.errors import install_error_handlers
from app.api.frontend_files import FrontendFiles
from app.api.input_boundary import InputBoundaryMiddleware
from app.api.login_throttle import LoginThrottle
from app.api.metrics import router as metrics_router
from app.api.openapi import install_exact_openapi
from app.api.request_batching import new_request_batcher
from app.api.v1.router import TAGS_METADATA, api_router
from app.api.v1.routes.public import is_online
from app.core.config import Settings, get_settings
from app.core.logging import configure_logging
from app.db.session import create_db_engine, create_session_factory
from app.inference.image_keeping import open_image_store
from app.inference.image_retention import start_purge_thread
from app.inference.model_server import ModelServer
from app.inference.shadow import ShadowPredictor
from app.telemetry import setup_telemetry
from product_classifier.paths import REPOSITORY_ROOT

logger = logging.getLogger(__name__)

FRONTEND_DIR = REPOSITORY_ROOT / "frontend"

DESCRIPTION = """
Predicts the Rakuten France category of a product from its French title (`designation`),
its `description` and a colour JPEG picture, with the model version that MLflow's registry
names `MODEL_NAME@MODEL_ALIAS`. Log in at `/login/access-token`, then call `/predict/`;
send the seller's final choice to `/feedback/`.
"""


def _model_server(settings: Settings, tracking_uri: str, alias: str) -> ModelServer:
    """A server following ``MODEL_NAME@alias`` (the champion's or the challenger's alias)."""
    return ModelServer(
        tracking_uri=tracking_uri,
        model_name=settings.MODEL_NAME,
        model_alias=alias,
        reload_interval=settings.MODEL_RELOAD_INTERVAL_SECONDS,
        retry_failed_after=settings.MODEL_LOAD_RETRY_SECONDS,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the database, load the served model (and challenger), follow them; undo on shutdown."""
    settings: Settings = app.state.settings
    engine = create_db_engine(
        settings.database_url,
        timeout_seconds=settings.DATABASE_TIMEOUT_SECONDS,
        statement_timeout_seconds=settings.DATABASE_STATEMENT_TIMEOUT_SECONDS,
    )
    app.state.session_factory = create_session_factory(engine)
    app.state.image_store = open_image_store(settings)
    start_purge_thread(app.state.image_store, app.state.session_factory, settings)
    tracking_uri = settings.configure_mlflow()
    server = _model_server(settings, tracking_uri, settings.MODEL_ALIAS)
    app.state.model_server = server
    await anyio.to_thread.run_sync(app.state.login_throttle.check_storage)
    servers = [server]
    app.state.shadow = None
    if settings.MODEL_CHALLENGER_ALIAS:
        challenger = _model_server(settings, tracking_uri, settings.MODEL_CHALLENGER_ALIAS)
        servers.append(challenger)
        app.state.shadow = ShadowPredictor(
            challenger, app.state.session_factory, queue_size=settings.SHADOW_QUEUE_SIZE
        )
    for each in servers:
        try:
            await anyio.to_thread.run_sync(each.refresh)
        except Exception:
            logger.exception("Cannot reach the model registry at startup; will keep trying.")
        each.start()
    if app.state.shadow is not None:
        app.state.shadow.start()
    app.state.prediction_batcher = new_request_batcher(settings)
    try:
        yield
    finally:
        if app.state.prediction_batcher is not None:
            await app.state.prediction_batcher.aclose()
        for each in servers:
            await anyio.to_thread.run_sync(each.stop)
        if app.state.shadow is not None:
            await anyio.to_thread.run_sync(app.state.shadow.stop)
        engine.dispose()


def create_app(settings: Settings | None = None, frontend_dir: Path = FRONTEND_DIR) -> FastAPI:
    """Build the application.

    Args:
        settings: The settings to use (default: read from the environment once).
        frontend_dir: Folder of the web page, served at ``/`` when it has an ``index.html``.

    Returns:
        The application; its lifespan connects to the database and loads the model.
    """
    settings = (settings or get_settings()).with_signing_key()
    configure_logging(settings.LOG_LEVEL)
    # Keep uploads in memory: Starlette spools files over 1 MiB to disk otherwise. The body
    # limits below cap how much can arrive.
    MultiPartParser.spool_max_size = max(
        MultiPartParser.spool_max_size, settings.max_predict_body_bytes
    )
    # /docs and /redoc with the Swagger UI and ReDoc files of the fastapi-offline package:
    # they work without internet (no CDN). No validator badge: it would call swagger.io.
    app = FastAPIOffline(
        title=settings.PROJECT_NAME,
        description=DESCRIPTION,
        version="1.0.0",
        openapi_tags=TAGS_METADATA,
        lifespan=lifespan,
        swagger_ui_parameters={"validatorUrl": None},
        # Traces come from OpenTelemetry's FastAPI instrumentation (app.telemetry.tracing) and
        # metrics from /metrics: FastAPI's own telemetry would only look up the global
        # OpenTelemetry providers on every request (three environment reads) to find none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle.from_settings(settings)
    install_error_handlers(app)
    install_database_error_handler(app)
    install_exact_openapi(app)
    if settings.BACKEND_CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.BACKEND_CORS_ORIGINS,
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Model-Name", "X-Model-Version", "X-Prediction-Id"],
        )
    app.include_router(api_router, prefix=settings.API_V1_STR)
    app.include_router(metrics_router)  # GET /metrics, where Prometheus scrapers look
    # The API's root answers without its trailing slash too (the link start.sh prints).
    app.add_api_route(settings.API_V1_STR, is_online, methods=["GET"], include_in_schema=False)
    # FastAPIOffline serves them at its defaults: nothing from another host there.
    app.add_middleware(DocsContentPolicy, paths=("/docs", "/redoc"))
    # Inside the body limit: a body is measured before its text is read.
    app.add_middleware(InputBoundaryMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware,
        default_limit=settings.max_predict_body_bytes,
        path_limits={f"{settings.API_V1_STR}/predict/batch": settings.MAX_BATCH_BODY_BYTES},
    )
    setup_telemetry(app, settings)
    if (frontend_dir / "index.html").is_file():
        # Mounted last: every API route and /docs take precedence over the page's files.
        app.mount(
            "/",
            FrontendFiles(api_prefix=settings.API_V1_STR, directory=frontend_dir, html=True),
            name="frontend",
        )
    return app


app = create_app()
