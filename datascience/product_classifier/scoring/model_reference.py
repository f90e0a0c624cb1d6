"""Which model version scores the catalogue, pinned once when the job starts.

An alias (``models:/fusion@production``) is resolved to its version before the first row is
scored, so the whole catalogue is scored by one version even if the alias moves meanwhile, and
every output row names it.
"""

from dataclasses import dataclass
from typing import Any

from product_classifier.tracking.registry import name_and_version, resolve_model_uri


@dataclass(frozen=True)
class ModelReference:
    """A model to score with.

    Attributes:
        uri: The URI given by the user (an alias, a version, ``runs:/...``, a path).
        load_uri: What is loaded: ``models:/NAME/VERSION`` for registered models, else ``uri``.
        name: The registered model name (the URI itself for an unregistered model).
        version: The registered version (``None`` for an unregistered model).
    """

    uri: str
    load_uri: str
    name: str
    version: str | None


def resolve_model(uri: str) -> ModelReference:
    """Pin ``uri`` to a registered version when it names one (tracking must be configured).

    Raises:
        product_classifier.tracking.registry.RegistryError: The model, version or alias does
            not exist.
    """
    load_uri = resolve_model_uri(uri)
    registered = name_and_version(load_uri)
    if registered is None:
        return ModelReference(uri=uri, load_uri=load_uri, name=uri, version=None)
    name, version = registered
    return ModelReference(uri=uri, load_uri=load_uri, name=name, version=version)


def load_pyfunc(location: str) -> Any:
    """Load a model through its public pyfunc interface (whatever runtime it uses inside)."""
    import mlflow.pyfunc  # noqa: PLC0415 - heavy; only where a model is loaded

    return mlflow.pyfunc.load_model(location)
