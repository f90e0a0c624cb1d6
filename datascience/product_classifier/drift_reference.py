"""A small statistical profile of a model's training data, logged with its MLflow run.

The API compares this profile with the products it predicts to detect drift (text length,
empty descriptions, images, categories). The same :class:`ProfileBuilder` computes both sides,
so that "text length" or "empty description" mean exactly the same thing in training and in
serving.

The training pipeline logs the profile of its training rows inside its run::

    log_training_data_profile(data.train.X, data.train.y, data.dataset_dir)

which writes the ``data_profile.json`` artifact at the root of the run; the API reads it back
with :func:`load_data_profile` from the run of the model version it serves.
"""

import bisect
import json
import math
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # the API reads profiles without pandas (seconds and MB of start-up)
    import pandas as pd

from product_classifier.categories import CATEGORY_CODES, is_category_code

PROFILE_ARTIFACT: Final = "data_profile.json"
"""Artifact file of the profile, at the root of the training run."""
PROFILE_FORMAT: Final = 1
"""Version of the JSON layout, saved in the profile."""

DESIGNATION_LENGTH_EDGES: Final = (0, 20, 40, 60, 80, 100, 125, 150, 200, 250)
"""Lower bounds of the designation length bins, in characters (the last bin is open)."""
DESCRIPTION_LENGTH_EDGES: Final = (0, 1, 100, 250, 500, 1000, 2000, 4000)
"""Lower bounds of the description length bins, in characters (``[0, 1)``: empty)."""


def is_blank(text: str) -> bool:
    """Tell whether a text field is empty or whitespace only (an "empty description")."""
    return not text.strip()


@dataclass(frozen=True)
class LengthHistogram:
    """Counts of text lengths (characters of the raw text) in fixed bins.

    Attributes:
        edges: Lower bound of each bin; bin ``i`` holds lengths in ``[edges[i], edges[i+1])``,
            the last one every length from ``edges[-1]`` up.
        counts: Number of texts in each bin.
        total_length: Sum of the lengths (for the mean).
    """

    edges: tuple[int, ...]
    counts: tuple[int, ...]
    total_length: int = 0

    @property
    def rows(self) -> int:
        """Number of texts counted."""
        return sum(self.counts)

    @property
    def mean(self) -> float:
        """Mean length in characters (0 when empty)."""
        return self.total_length / self.rows if self.rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {
            "edges": list(self.edges),
            "counts": list(self.counts),
            "total_length": self.total_length,
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "LengthHistogram":
        """Read what :meth:`to_dict` wrote."""
        edges = tuple(int(edge) for edge in values["edges"])
        counts = tuple(int(count) for count in values["counts"])
        if len(edges) != len(counts) or not edges:
            raise ValueError("A length histogram needs one count per bin edge.")
        return cls(edges, counts, int(values.get("total_length", 0)))


@dataclass(frozen=True)
class DataProfile:
    """What a set of products looks like: text lengths, empty descriptions, images, categories.

    Attributes:
        rows: Number of products.
        designation_length: Histogram of designation lengths.
        description_length: Histogram of description lengths.
        empty_descriptions: Products whose description is blank.
        with_image: Products that have an image.
        categories: Products per category code (real categories for training data, predicted
            ones for served products).
        source: Where the products come from (a dataset folder, a time window).
        created_at: When the profile was computed (ISO 8601, UTC).
    """

    rows: int
    designation_length: LengthHistogram
    description_length: LengthHistogram
    empty_descriptions: int
    with_image: int
    categories: Mapping[int, int] = field(default_factory=dict)
    source: str = ""
    created_at: str = ""

    @property
    def empty_description_rate(self) -> float:
        """Share of products with a blank description (0 without products)."""
        return self.empty_descriptions / self.rows if self.rows else 0.0

    @property
    def image_rate(self) -> float:
        """Share of products with an image (0 without products)."""
        return self.with_image / self.rows if self.rows else 0.0

    def category_counts(self) -> list[int]:
        """Products per category, in the order of :data:`CATEGORY_CODES`."""
        return [int(self.categories.get(code, 0)) for code in CATEGORY_CODES]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary (category codes as string keys)."""
        return {
            "format": PROFILE_FORMAT,
            "source": self.source,
            "created_at": self.created_at,
            "rows": self.rows,
            "designation_length": self.designation_length.to_dict(),
            "description_length": self.description_length.to_dict(),
            "empty_descriptions": self.empty_descriptions,
            "with_image": self.with_image,
            "categories": {str(code): count for code, count in sorted(self.categories.items())},
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "DataProfile":
        """Read what :meth:`to_dict` wrote.

        Raises:
            ValueError: The dictionary is not a profile of a known format.
        """
        if values.get("format") != PROFILE_FORMAT:
            raise ValueError(f"Unknown data profile format: {values.get('format')!r}.")
        try:
            return cls(
                rows=int(values["rows"]),
                designation_length=LengthHistogram.from_dict(values["designation_length"]),
                description_length=LengthHistogram.from_dict(values["description_length"]),
                empty_descriptions=int(values["empty_descriptions"]),
                with_image=int(values["with_image"]),
                categories={int(code): int(n) for code, n in values["categories"].items()},
                source=str(values.get("source", "")),
                created_at=str(values.get("created_at", "")),
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"Malformed data profile: {error!r}.") from error


class _HistogramBuilder:
    def __init__(self, edges: tuple[int, ...]) -> None:
        self.edges = edges
        self.counts = [0] * len(edges)
        self.total_length = 0

    def add(self, length: int) -> None:
        self.counts[max(0, bisect.bisect_right(self.edges, length) - 1)] += 1
        self.total_length += length

    def build(self) -> LengthHistogram:
        return LengthHistogram(self.edges, tuple(self.counts), self.total_length)


class ProfileBuilder:
    """Accumulates products one at a time into a :class:`DataProfile`.

    Args:
        designation_edges: Bin edges of designation lengths (a reference profile's own edges,
            so that served products are binned like the training ones).
        description_edges: Bin edges of description lengths.
    """

    def __init__(
        self,
        designation_edges: tuple[int, ...] = DESIGNATION_LENGTH_EDGES,
        description_edges: tuple[int, ...] = DESCRIPTION_LENGTH_EDGES,
    ) -> None:
        self._designation = _HistogramBuilder(designation_edges)
        self._description = _HistogramBuilder(description_edges)
        self._rows = 0
        self._empty = 0
        self._with_image = 0
        self._categories: Counter[int] = Counter()

    @classmethod
    def like(cls, reference: DataProfile) -> "ProfileBuilder":
        """A builder binning lengths like ``reference``."""
        return cls(reference.designation_length.edges, reference.description_length.edges)

    def add(
        self, designation: str, description: str, *, has_image: bool, category: int | None
    ) -> None:
        """Count one product.

        Args:
            designation: Its title, as sent (HTML included).
            description: Its description, as sent.
            has_image: Whether it has an image.
            category: Its category code (real or predicted); ``None`` or an unknown code is not
                counted in the category distribution.
        """
        self._rows += 1
        self._designation.add(len(designation))
        self._description.add(len(description))
        self._empty += is_blank(description)
        self._with_image += bool(has_image)
        if category is not None and is_category_code(category):
            self._categories[int(category)] += 1

    def build(self, source: str = "") -> DataProfile:
        """Return the profile of the products added so far."""
        return DataProfile(
            rows=self._rows,
            designation_length=self._designation.build(),
            description_length=self._description.build(),
            empty_descriptions=self._empty,
            with_image=self._with_image,
            categories=dict(sorted(self._categories.items())),
            source=source,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )


def profile_products(
    designations: Iterable[str],
    descriptions: Iterable[str],
    has_image: Iterable[bool],
    categories: Iterable[int | None],
    source: str = "",
) -> DataProfile:
    """Profile products given column by column (all iterables in the same row order)."""
    builder = ProfileBuilder()
    for designation, description, image, category in zip(
        designations, descriptions, has_image, categories, strict=True
    ):
        builder.add(designation, description, has_image=image, category=category)
    return builder.build(source)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def profile_dataset_rows(
    features: "pd.DataFrame", codes: "pd.Series[int]", dataset_dir: Path | None, source: str = ""
) -> DataProfile:
    """Profile rows of a dataset folder (e.g. the training rows of a run).

    Args:
        features: ``designation``, ``description``, ``productid`` and ``imageid`` columns.
        codes: The ``prdtypecode`` of each row, in the same order.
        dataset_dir: The dataset folder: a row "has an image" when its optimised image file is
            in ``dataset_dir/images`` (``None``: no row has one).
        source: Where the rows come from (saved in the profile).
    """
    from product_classifier.data.dataset_folder import image_paths  # noqa: PLC0415

    if dataset_dir is not None and len(features):
        has_image = [path.is_file() for path in image_paths(dataset_dir, features)]
    else:
        has_image = [False] * len(features)
    return profile_products(
        (_text(value) for value in features["designation"]),
        (_text(value) for value in features["description"]),
        has_image,
        (int(code) for code in codes),
        source=source,
    )


def log_data_profile(profile: DataProfile, artifact_file: str = PROFILE_ARTIFACT) -> None:
    """Log ``profile`` as a JSON artifact of the active MLflow run."""
    import mlflow  # noqa: PLC0415

    mlflow.log_dict(profile.to_dict(), artifact_file)


def log_training_data_profile(
    features: "pd.DataFrame", codes: "pd.Series[int]", dataset_dir: Path
) -> DataProfile:
    """Profile the training rows and log the profile in the active run (one call for training).

    Args:
        features: The training rows' features (``data.train.X``).
        codes: Their category codes (``data.train.y``).
        dataset_dir: The dataset folder they were read from (``data.dataset_dir``).

    Returns:
        The logged profile.
    """
    dataset_dir = Path(dataset_dir).resolve()
    profile = profile_dataset_rows(
        features, codes, dataset_dir, source=f"training rows of {dataset_dir}"
    )
    log_data_profile(profile)
    return profile


def load_data_profile(
    run_id: str, tracking_uri: str | None = None, artifact_file: str = PROFILE_ARTIFACT
) -> DataProfile | None:
    """Read the profile logged in a run.

    Args:
        run_id: The training run (a registered model version's ``run_id``).
        tracking_uri: MLflow tracking URI (default: the configured one).
        artifact_file: Artifact path of the profile in the run.

    Returns:
        The profile, or ``None`` when the run has no such artifact.

    Raises:
        ValueError: The artifact exists but is not a valid profile.
    """
    import mlflow.artifacts  # noqa: PLC0415
    from mlflow.exceptions import MlflowException  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="data-profile-") as folder:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id,
                artifact_path=artifact_file,
                dst_path=folder,
                tracking_uri=tracking_uri,
            )
        except (MlflowException, OSError):
            return None
        try:
            values = json.loads(Path(local).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ValueError(f"{artifact_file} of run {run_id} is not JSON: {error}") from error
    if not isinstance(values, dict):
        raise ValueError(f"{artifact_file} of run {run_id} is not a JSON object.")
    return DataProfile.from_dict(values)
