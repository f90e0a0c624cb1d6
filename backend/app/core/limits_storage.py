"""Open a storage of the ``limits`` library from its URI (``memory://``, ``redis://...``)."""

from typing import Final
from urllib.parse import urlsplit

from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string

SCHEMES: Final = frozenset(
    {"memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"}
)
"""The storages whose driver the backend installs (``limits[redis]``)."""


def open_limits_storage(uri: str) -> Storage:
    """The synchronous storage at ``uri``.

    Args:
        uri: A ``limits`` storage URI such as ``memory://`` or ``redis://localhost:6379``.

    Raises:
        ValueError: a scheme other than ``memory`` and Redis's (another driver is not
            installed; an ``async+`` storage does not fit the synchronous login route).
    """
    scheme = urlsplit(uri).scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(
            f"the scheme {scheme or 'is missing and'}:// is not one of {sorted(SCHEMES)}"
        )
    try:
        storage = storage_from_string(uri)
    except ConfigurationError as error:
        raise ValueError(str(error)) from None
    if not isinstance(storage, Storage):
        raise ValueError("an async+ storage cannot count for the synchronous login route")
    return storage
