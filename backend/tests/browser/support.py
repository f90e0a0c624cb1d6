"""Types and helpers shared by the browser tests and their fixtures."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Page, ViewportSize

from app.core.config import Settings
from app.core.security import create_access_token

DESKTOP: ViewportSize = {"width": 1280, "height": 900}
MOBILE: ViewportSize = {"width": 390, "height": 844}

OpenPage = Callable[..., Page]
"""``open_page(viewport=DESKTOP, api=live_api)``: a fresh browser context showing ``/``."""


@dataclass(frozen=True)
class Credentials:
    """A user of the browser tests' database."""

    id: int
    email: str
    password: str


@dataclass(frozen=True)
class SampleProduct:
    """A real product of the Rakuten sample, with its JPEG."""

    product_id: int
    designation: str
    description: str
    image_path: Path


def token_for(user_id: int, settings: Settings, minutes: float = 30) -> str:
    """A token signed like the API signs them (negative ``minutes``: already expired)."""
    return create_access_token(user_id, settings.SECRET_KEY, timedelta(minutes=minutes))


def api_login(api_url: str, credentials: Credentials) -> dict[str, str]:
    """Log in through the API; return the Authorization headers for direct calls."""
    form = {"username": credentials.email, "password": credentials.password}
    response = httpx.post(f"{api_url}/login/access-token", data=form)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
