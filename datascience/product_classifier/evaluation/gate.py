"""The promotion gate: the challenger's recorded evaluation against the alias's current holder.

``evaluate_challenger`` tags the challenger's model version with its gains over one champion
version (:mod:`product_classifier.evaluation.challenger`). The gate lets the alias move only
when that champion is the version the alias points to now, the evaluation used enough rows, and
the weighted-F1 gain reaches the minimum.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from product_classifier.evaluation.challenger import (
    CHAMPION_VERSION_TAG,
    EVALUATION_TAGS,
    F1_GAIN_TAG,
    ROWS_TAG,
)


class MissingEvaluationError(Exception):
    """The challenger has no evaluation against the alias's current holder (one line)."""


@dataclass(frozen=True)
class GateDecision:
    """Whether the alias may move, and why (one line)."""

    allowed: bool
    reason: str


def gate_decision(
    tags: Mapping[str, str],
    holder_version: str | None,
    *,
    min_gain: float = 0.0,
    min_rows: int = 1,
) -> GateDecision:
    """Decide from the challenger version's tags whether it may take the alias.

    Args:
        tags: The challenger model version's tags.
        holder_version: The version the alias points to now (``None``: the alias is free).
        min_gain: Least weighted-F1 gain (challenger minus holder, 0..1) to promote.
        min_rows: Least number of rows the evaluation must have scored.

    Raises:
        MissingEvaluationError: The holder exists and the tags hold no evaluation against it.
    """
    if holder_version is None:
        return GateDecision(True, "the alias points to no version yet: nothing to beat")
    missing = [tag for tag in EVALUATION_TAGS if tag not in tags]
    if missing:
        raise MissingEvaluationError(
            f"no evaluation recorded (tags {', '.join(missing)} missing): run "
            "python -m scripts.evaluate_challenger first"
        )
    if tags[CHAMPION_VERSION_TAG] != str(holder_version):
        raise MissingEvaluationError(
            f"the recorded evaluation is against version {tags[CHAMPION_VERSION_TAG]}, but the "
            f"alias points to version {holder_version}: run python -m scripts.evaluate_challenger "
            "against it first"
        )
    gain, rows = float(tags[F1_GAIN_TAG]), int(tags[ROWS_TAG])
    if rows < min_rows:
        return GateDecision(
            False, f"the evaluation scored {rows} rows, fewer than the minimum {min_rows}"
        )
    if gain < min_gain:
        return GateDecision(
            False,
            f"weighted F1 gain over version {holder_version} is {gain:+.4f}, below the "
            f"minimum {min_gain:+.4f}",
        )
    return GateDecision(
        True,
        f"weighted F1 gain over version {holder_version} is {gain:+.4f} on {rows} rows "
        f"(minimum {min_gain:+.4f})",
    )
