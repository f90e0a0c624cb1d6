"""Send the application's log records to stderr, beside uvicorn's own, and keep lines short."""

import logging
import sys
from typing import Final

_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"

MAX_LOGGED_PATH: Final = 200
"""Longest request path (with its query) written to the access log, in characters."""
ACCESS_LOGGER: Final = "uvicorn.access"


def shorten(text: str, limit: int = MAX_LOGGED_PATH) -> str:
    """Cut ``text`` to ``limit`` characters, saying how long it was.

    Returns:
        ``text`` itself when short enough, else its start followed by
        ``"... (N characters)"``.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class ShortPathFilter(logging.Filter):
    """Shorten the request path of uvicorn's access records (their third argument).

    A query may hold up to ``MAX_TEXT_LENGTH`` characters of text, twice: logging it whole would
    write lines of tens of thousands of characters, and the products' texts, to the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace a long path argument by its shortened form; always keep the record."""
        arguments = record.args
        if isinstance(arguments, tuple) and len(arguments) >= 3 and isinstance(arguments[2], str):
            record.args = (*arguments[:2], shorten(arguments[2]), *arguments[3:])
        return True


def configure_logging(level: str) -> None:
    """Give the ``app`` logger a stderr handler, once; shorten the access log's paths."""
    logger = logging.getLogger("app")
    logger.setLevel(level.upper())
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        logger.addHandler(handler)
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(item, ShortPathFilter) for item in access.filters):
        access.addFilter(ShortPathFilter())
