"""Shapes describing the served model, the categories and the service health."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ModelInfo(BaseModel):
    """The model version being served."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    version: str
    alias: str
    loaded_at: datetime
    run_id: str | None = None


class Category(BaseModel):
    """A product category: its Rakuten code and French name."""

    category_id: int
    name: str


class Health(BaseModel):
    """The state of the service."""

    status: str
    database: str | None = None
    model: str | None = None
