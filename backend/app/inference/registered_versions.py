"""Whether a model version exists in the MLflow registry (for feedback that names one).

The lookup goes through the platform's registry adapter
(:func:`product_classifier.tracking.registry.get_version`). A version found once is remembered
for the life of the process (registered versions are not renumbered); unknown versions are
asked again each time, since one may be registered later.
"""

import threading
from functools import lru_cache


class RegistryUnavailableError(Exception):
    """The registry could not be asked (MLflow does not answer, or answers an error)."""


class RegisteredVersions:
    """The registered versions of one model name, looked up on demand and remembered."""

    def __init__(self, tracking_uri: str, model_name: str) -> None:
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def remember(self, version: str) -> None:
        """Record a version known to exist (e.g. the one being served)."""
        with self._lock:
            self._known.add(version)

    def exists(self, version: str) -> bool:
        """Whether ``models:/<model_name>/<version>`` is registered.

        Raises:
            RegistryUnavailableError: the registry did not answer.
        """
        with self._lock:
            if version in self._known:
                return True
        from mlflow.tracking import MlflowClient  # noqa: PLC0415 - heavy, loaded with the model

        from product_classifier.tracking.registry import RegistryError, get_version  # noqa: PLC0415

        client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        try:
            get_version(self.model_name, version, client)
        except RegistryError:
            return False
        except Exception as error:
            raise RegistryUnavailableError(str(error)) from error
        self.remember(version)
        return True


@lru_cache(maxsize=8)
def registered_versions(tracking_uri: str, model_name: str) -> RegisteredVersions:
    """The process-wide registry lookups of one model name in one tracking store."""
    return RegisteredVersions(tracking_uri, model_name)
