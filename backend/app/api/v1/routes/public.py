"""Online check and the category table."""

from fastapi import APIRouter
from sqlalchemy import text

from app.api.deps import SessionDep, SettingsDep
from app.schemas.serving import Category
from product_classifier.categories import CATEGORIES

router = APIRouter(tags=["public"])


@router.get("/")
def is_online(session: SessionDep, settings: SettingsDep) -> str:
    """Check that the API runs and that its database answers."""
    session.execute(text("SELECT 1"))
    return f"API {settings.PROJECT_NAME} is online!"


@router.get("/categories/")
async def read_categories() -> list[Category]:
    """The 27 product categories: Rakuten code and French name, in model order."""
    return [Category(category_id=code, name=name) for code, name in CATEGORIES.items()]
