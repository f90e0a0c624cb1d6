"""The version 1 API: every route, with its tag."""

from fastapi import APIRouter, Depends

from app.api.query_parameters import refuse_unknown_query_parameters
from app.api.v1.routes import feedback, health, login, models, predict, predictions, public, users
from app.api.v1.routes.monitoring import router as monitoring_router

# A query parameter no route of the API takes is a 422, on every route.
api_router = APIRouter(dependencies=[Depends(refuse_unknown_query_parameters)])
api_router.include_router(public.router)
api_router.include_router(login.router)
api_router.include_router(users.router)
api_router.include_router(predict.router)
api_router.include_router(predictions.router)
api_router.include_router(feedback.router)
api_router.include_router(models.router)
api_router.include_router(health.router)
api_router.include_router(monitoring_router)

TAGS_METADATA = [
    {"name": "public", "description": "Online check and the category table."},
    {"name": "login", "description": "OAuth2 password flow: get a bearer access token."},
    {"name": "users", "description": "Accounts. Administrators manage everybody."},
    {
        "name": "predict",
        "description": "Predict product categories with the model being served. "
        "Every prediction is stored.",
    },
    {"name": "predictions", "description": "Stored predictions (administrators)."},
    {
        "name": "feedback",
        "description": "The category sellers finally chose, and the quality it shows.",
    },
    {"name": "models", "description": "The model version being served."},
    {"name": "health", "description": "Liveness and readiness probes."},
    {
        "name": "monitoring",
        "description": "Live quality, frequent errors and data drift per model version "
        "(administrators).",
    },
]
