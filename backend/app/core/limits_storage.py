"""Open a storage of the ``limits`` library from its URI (``memory://``, ``redis://...``)."""

from limits.errors import ConfigurationError
from limits.storage import Storage, storage_from_string


def open_limits_storage(uri: str) -> Storage:
    """The synchronous storage at ``uri``.

    Args:
        uri: A ``limits`` storage URI such as ``memory://`` or ``redis://localhost:6379``.

    Raises:
        ValueError: an unknown scheme, a driver that is not installed or an ``async+``
            storage (the login route is synchronous).
    """
    try:
        storage = storage_from_string(uri)
    except ConfigurationError as error:
        raise ValueError(str(error)) from None
    if not isinstance(storage, Storage):
        raise ValueError("an async+ storage cannot count for the synchronous login route")
    return storage
