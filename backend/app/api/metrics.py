"""``GET /metrics``: every Prometheus metric of the API, outside ``/api/v1`` (where scrapers look).

The route is public, like any Prometheus target: restrict it at the network level (reverse
proxy, firewall) in production. The feedback figures are read from the database at each scrape;
if the database does not answer, the other metrics are still served.
"""

import logging

from fastapi import APIRouter, Response
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import SessionDep
from app.monitoring.quality import feedback_stats
from app.telemetry.metrics import FeedbackCollector, render_metrics

logger = logging.getLogger(__name__)

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
def metrics(session: SessionDep) -> Response:
    """Prometheus metrics: requests, latency, predictions, served model, live quality."""
    collectors = []
    try:
        collectors.append(FeedbackCollector(feedback_stats(session)))
    except SQLAlchemyError:
        logger.warning("/metrics: cannot read the feedback; serving the other metrics.")
    body, content_type = render_metrics(*collectors)
    return Response(content=body, media_type=content_type)
