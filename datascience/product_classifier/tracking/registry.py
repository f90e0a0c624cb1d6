"""The model registry: registered models ``text``, ``image``, ``fusion``, versions and aliases.

Promotion uses aliases (``staging``, ``production``), never the deprecated stages. Every error a
person can cause (unknown model, version or alias) is a :class:`RegistryError` with a one-line
message.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

MODEL_KINDS: Final = ("text", "image", "fusion")
STAGING_ALIAS: Final = "staging"
PRODUCTION_ALIAS: Final = "production"
TEST_METRICS: Final = ("test_accuracy", "test_f1_weighted")
"""Run metrics shown beside each version."""

DESCRIPTIONS: Final[Mapping[str, str]] = {
    "text": (
        "Predicts the Rakuten France category (27 classes) of a product from its French title "
        "and description: HTML and numbers removed, French Snowball stems, TF-IDF, dense network."
    ),
    "image": (
        "Predicts the Rakuten France category (27 classes) of a product from its image: "
        "MobileNetV2 backbone, global average pooling, softmax."
    ),
    "fusion": (
        "Predicts the Rakuten France category (27 classes) of a product from its text, its image "
        "or both: features of the text and image models concatenated, dense head."
    ),
}
INPUTS: Final[Mapping[str, str]] = {
    "text": "designation, description",
    "image": "image_path",
    "fusion": "designation, description, image_path",
}

_MODEL_URI: Final = re.compile(
    r"^models:/(?P<name>[^/@]+)(?:/(?P<version>[^/@]+)|@(?P<alias>[^/@]+))$"
)
_ALIAS: Final = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,254}$")


class RegistryError(Exception):
    """Something asked of the registry does not exist (a message for a person, one line)."""


@dataclass(frozen=True)
class VersionSummary:
    """One registered model version as ``promote_model --list`` shows it."""

    name: str
    version: int
    aliases: tuple[str, ...]
    run_id: str | None
    created_ms: int
    metrics: Mapping[str, float] = field(default_factory=dict)
    description: str = ""


def _client(client: MlflowClient | None) -> MlflowClient:
    return client or MlflowClient()


NOT_REGISTERED_CODES: Final = frozenset(
    {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}
)
"""Error codes MLflow answers when a registered model, version or alias does not exist."""


def is_not_registered(error: MlflowException) -> bool:
    """Whether ``error`` means "no such registered model, version or alias"."""
    return error.error_code in NOT_REGISTERED_CODES


@dataclass(frozen=True)
class RegisteredVersion:
    """A registered model version: its number and the run that logged it."""

    name: str
    version: str
    run_id: str | None


def find_registered_version(
    name: str,
    *,
    alias: str | None = None,
    version: str | None = None,
    tracking_uri: str | None = None,
    client: MlflowClient | None = None,
) -> RegisteredVersion | None:
    """The version ``name@alias`` points at (or ``name`` version ``version``), if registered.

    Args:
        name: Registered model name.
        alias: The alias to resolve (exactly one of ``alias`` and ``version``).
        version: The version to look up.
        tracking_uri: Tracking and registry store of the new client (default: MLflow's).
        client: MLflow client (default: a new one on ``tracking_uri``).

    Returns:
        The version and its run id; ``None`` when the model, version or alias does not exist.

    Raises:
        MlflowException: The registry failed for another reason (unreachable store...).
        ValueError: Not exactly one of ``alias`` and ``version`` given.
    """
    if (alias is None) == (version is None):
        raise ValueError("pass exactly one of alias and version")
    client = client or MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        if alias is not None:
            found = client.get_model_version_by_alias(name, alias)
        else:
            found = client.get_model_version(name, str(version))
    except MlflowException as error:
        if is_not_registered(error):
            return None
        raise
    return RegisteredVersion(name=name, version=str(found.version), run_id=found.run_id or None)


def get_registered_model(name: str, client: MlflowClient | None = None) -> Any:
    """Return a registered model.

    Raises:
        RegistryError: There is no registered model of that name.
    """
    try:
        return _client(client).get_registered_model(name)
    except MlflowException as error:
        if not is_not_registered(error):
            raise
        raise RegistryError(f"Unknown registered model {name!r}.") from None


def ensure_registered_model(name: str, kind: str, client: MlflowClient | None = None) -> Any:
    """Return the registered model ``name``, creating it with a description and tags if needed.

    Args:
        name: Registered model name (``text``, ``image``, ``fusion`` by default).
        kind: Which model kind its versions hold.
        client: MLflow client (a new one by default).
    """
    client = _client(client)
    try:
        return client.get_registered_model(name)
    except MlflowException as error:
        if not is_not_registered(error):
            raise
    return client.create_registered_model(
        name,
        tags={"model_kind": kind, "inputs": INPUTS[kind], "task": "product categorisation"},
        description=DESCRIPTIONS[kind],
    )


def _check_alias(alias: str) -> None:
    if not _ALIAS.match(alias):
        raise RegistryError(
            f"Invalid alias {alias!r}: use letters, digits, '_' or '-' (e.g. staging, production)."
        )


def get_version(name: str, version: int | str, client: MlflowClient | None = None) -> Any:
    """Return a model version.

    Raises:
        RegistryError: The model or the version does not exist.
    """
    client = _client(client)
    registered = get_registered_model(name, client)
    try:
        return client.get_model_version(registered.name, str(version))
    except MlflowException as error:
        if not is_not_registered(error):
            raise
        raise RegistryError(f"Registered model {name!r} has no version {version}.") from None


def get_version_by_alias(name: str, alias: str, client: MlflowClient | None = None) -> Any:
    """Return the version an alias points to.

    Raises:
        RegistryError: The model or the alias does not exist.
    """
    client = _client(client)
    registered = get_registered_model(name, client)
    aliases = dict(registered.aliases or {})
    if alias not in aliases:
        known = ", ".join(sorted(aliases)) or "none"
        raise RegistryError(f"Registered model {name!r} has no alias {alias!r} (aliases: {known}).")
    return client.get_model_version(name, str(aliases[alias]))


def latest_version(name: str, client: MlflowClient | None = None) -> Any:
    """Return the highest version of a registered model.

    Raises:
        RegistryError: The model does not exist or has no version.
    """
    client = _client(client)
    get_registered_model(name, client)
    versions = client.search_model_versions(f"name = '{name}'")
    if not versions:
        raise RegistryError(f"Registered model {name!r} has no version yet.")
    return max(versions, key=lambda version: int(version.version))


def resolve_model_uri(uri: str, client: MlflowClient | None = None) -> str:
    """Check a ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or ``models:/NAME/latest`` URI.

    Returns:
        ``models:/NAME/VERSION`` (aliases resolved now, so a run records which version it used);
        other URIs (``runs:/``, paths) are returned unchanged.

    Raises:
        RegistryError: The model, version or alias does not exist.
    """
    match = _MODEL_URI.match(uri)
    if match is None:
        return uri
    name = match["name"]
    if match["alias"] is not None:
        version = get_version_by_alias(name, match["alias"], client)
    elif match["version"] == "latest":
        version = latest_version(name, client)
    else:
        version = get_version(name, match["version"], client)
    return f"models:/{version.name}/{version.version}"


def name_and_version(uri: str) -> tuple[str, str] | None:
    """Return ``(NAME, VERSION)`` of a ``models:/NAME/VERSION`` URI, ``None`` for other URIs."""
    match = _MODEL_URI.match(uri)
    if match is None or match["version"] is None:
        return None
    return match["name"], match["version"]


def set_alias(
    name: str, alias: str, version: int | str, client: MlflowClient | None = None
) -> None:
    """Point ``alias`` of registered model ``name`` at ``version`` (moving it if it exists).

    Raises:
        RegistryError: The model or version does not exist, or the alias is not valid.
    """
    _check_alias(alias)
    client = _client(client)
    found = get_version(name, version, client)
    try:
        client.set_registered_model_alias(found.name, alias, str(found.version))
    except MlflowException as error:  # e.g. "latest" and "v1" are reserved by MLflow
        if error.error_code != "INVALID_PARAMETER_VALUE":
            raise
        raise RegistryError(f"Invalid alias {alias!r}: {error.message}") from None


def list_versions(
    name: str | None = None, client: MlflowClient | None = None
) -> list[VersionSummary]:
    """Return every version (of one model, or of all), newest first, with aliases and metrics.

    Raises:
        RegistryError: ``name`` is given and does not exist.
    """
    client = _client(client)
    if name is not None:
        models = [get_registered_model(name, client)]
    else:
        models = sorted(client.search_registered_models(), key=lambda model: model.name)
    summaries = []
    for model in models:
        aliases_by_version: dict[str, list[str]] = {}
        for alias, version in dict(model.aliases or {}).items():
            aliases_by_version.setdefault(str(version), []).append(alias)
        versions = client.search_model_versions(f"name = '{model.name}'")
        for version in sorted(versions, key=lambda item: -int(item.version)):
            metrics: dict[str, float] = {}
            if version.run_id:
                try:
                    run_metrics = client.get_run(version.run_id).data.metrics
                except MlflowException:
                    run_metrics = {}
                metrics = {key: run_metrics[key] for key in TEST_METRICS if key in run_metrics}
            summaries.append(
                VersionSummary(
                    name=model.name,
                    version=int(version.version),
                    aliases=tuple(sorted(aliases_by_version.get(str(version.version), []))),
                    run_id=version.run_id,
                    created_ms=int(version.creation_timestamp or 0),
                    metrics=metrics,
                    description=version.description or "",
                )
            )
    return summaries
