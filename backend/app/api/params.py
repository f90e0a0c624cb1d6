"""Query and path parameters shared by several routes, bounded like the columns they reach."""

from typing import Annotated, Final

from fastapi import Path, Query

from app.schemas.bounds import INT32_MAX, VERSION_MAX_LENGTH

MAX_PAGE_SIZE: Final = 1000
"""Most rows one listing returns."""

SkipQuery = Annotated[
    int, Query(ge=0, le=INT32_MAX, description="Rows to skip before the first one returned.")
]
PageSizeQuery = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Most rows to return.")]
IdPath = Annotated[int, Path(ge=1, le=INT32_MAX, description="The row id (1 to 2^31 - 1).")]
VersionQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=VERSION_MAX_LENGTH, description="Only this model version."),
]
