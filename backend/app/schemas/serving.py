"""Shapes describing the served model, the categories and the service health."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AliasState = Literal["served", "loading", "failed", "unset"]


class AliasTargetInfo(BaseModel):
    """The version the registry alias points at now, which may not be the one served."""

    version: str | None = Field(
        description="The version `MODEL_NAME@MODEL_ALIAS` points at (null: the alias is not set)."
    )
    run_id: str | None = Field(default=None, description="The MLflow run of that version.")
    state: AliasState = Field(
        description="`served`: it is the version being served; `loading`: it is being loaded; "
        "`failed`: it could not be loaded (see `load_error`), the previous version keeps "
        "serving; `unset`: the alias points at nothing."
    )
    load_error: str | None = Field(
        default=None, description="Why that version could not be loaded (with `failed`)."
    )
    checked_at: datetime = Field(description="When the registry was last asked (UTC).")


class RegistryStatus(BaseModel):
    """Whether the model registry (MLflow tracking server or store) answers."""

    reachable: bool
    error: str | None = Field(
        default=None, description="Why the last check failed (when not reachable)."
    )
    unreachable_since: datetime | None = Field(
        default=None, description="First failed check of the current outage (UTC)."
    )


class ModelInfo(BaseModel):
    """The model version being served, and the version the alias points at now."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    version: str
    alias: str
    loaded_at: datetime
    run_id: str | None = None
    alias_target: AliasTargetInfo | None = Field(
        default=None,
        description="What the alias points at now (null before the registry was first asked). "
        "Differs from the served version while a new version loads or after it failed to load.",
    )
    registry: RegistryStatus | None = Field(
        default=None, description="Whether the last check of the registry succeeded."
    )


class Category(BaseModel):
    """A product category: its Rakuten code and French name."""

    category_id: int
    name: str


class Health(BaseModel):
    """The state of the service."""

    model_config = ConfigDict(protected_namespaces=())

    status: str
    database: str | None = None
    model: str | None = None
    alias_target: AliasTargetInfo | None = Field(
        default=None, description="What the alias points at now (readiness only)."
    )
    registry: RegistryStatus | None = Field(
        default=None, description="Whether the model registry answers (readiness only)."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What is wrong although the service is ready (it serves a loaded model): "
        "the model registry is unreachable, or the alias points at a version that failed to "
        "load. Empty when all is well.",
    )
