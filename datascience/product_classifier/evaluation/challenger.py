"""Replay labelled rows through a challenger version and a champion, and record the outcome.

The outcome is logged to MLflow twice: as a run (metrics, the table, the JSON and per-category
CSV as artifacts) in the challenger's experiment, and as tags on the challenger's model version
(:data:`EVALUATION_TAGS`), which ``promote_model --gate`` reads.
"""

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from product_classifier.evaluation.comparison import (
    RESAMPLES,
    Comparison,
    compare,
    comparison_text,
)
from product_classifier.evaluation.replay_rows import LabelledRows, predict_probabilities
from product_classifier.scoring.model_reference import ModelReference, load_pyfunc, resolve_model
from product_classifier.tracking.registry import RegistryError

logger = logging.getLogger(__name__)

TAG_PREFIX: Final = "evaluation."
F1_GAIN_TAG: Final = "evaluation.weighted_f1_gain"
ACCURACY_GAIN_TAG: Final = "evaluation.accuracy_gain"
ROWS_TAG: Final = "evaluation.rows"
CHAMPION_VERSION_TAG: Final = "evaluation.champion_version"
RUN_TAG: Final = "evaluation.run_id"
EVALUATION_TAGS: Final = (F1_GAIN_TAG, ACCURACY_GAIN_TAG, ROWS_TAG, CHAMPION_VERSION_TAG)
"""Tags the gate needs on the challenger's version."""
TABLE_FILE: Final = "challenger_evaluation.txt"
JSON_FILE: Final = "challenger_evaluation.json"
CLASSES_FILE: Final = "challenger_per_class_f1.csv"
ARTIFACT_DIR: Final = "evaluation"


@dataclass(frozen=True)
class ChallengerEvaluation:
    """What :func:`evaluate_challenger` did.

    Attributes:
        challenger, champion: The two pinned registered versions.
        comparison: Both models on the rows both could score.
        refused: Rows left out because either model refused them (bad image...).
        text: The printed table.
        run_id: The MLflow run holding the table.
    """

    challenger: ModelReference
    champion: ModelReference
    comparison: Comparison
    refused: int
    text: str
    run_id: str


def _registered(uri: str, role: str) -> ModelReference:
    """The registered version ``uri`` names.

    Raises:
        RegistryError: The model, version or alias does not exist.
        ValueError: ``uri`` does not name a registered version (an input error).
    """
    reference = resolve_model(uri)
    if reference.version is None:
        raise ValueError(
            f"The {role} must be a registered version (models:/NAME/VERSION or "
            f"models:/NAME@ALIAS), got {uri!r}."
        )
    return reference


def resolve_pair(
    challenger_uri: str, champion_uri: str | None
) -> tuple[ModelReference, ModelReference]:
    """Pin both versions; the champion defaults to ``models:/NAME@production``.

    Raises:
        RegistryError: Either does not exist, both are the same version, or the champion is a
            version of another registered model (the evaluation, recorded on the challenger's
            version, is what ``promote_model --gate`` reads to replace a version of its model).
        ValueError: Either is not a registered version's URI.
    """
    challenger = _registered(challenger_uri, "challenger")
    champion = _registered(champion_uri or f"models:/{challenger.name}@production", "champion")
    if champion.load_uri == challenger.load_uri:
        raise RegistryError(
            f"The challenger and the champion are the same version ({challenger.load_uri})."
        )
    if champion.name != challenger.name:
        raise RegistryError(
            f"The champion {champion.load_uri} is a version of {champion.name!r}, not of "
            f"{challenger.name!r}: compare the challenger with a version of its own registered "
            f"model (e.g. models:/{challenger.name}@production), which its promotion replaces."
        )
    return challenger, champion


def _log(
    evaluation_parts: dict[str, float],
    *,
    challenger: ModelReference,
    champion: ModelReference,
    comparison: Comparison,
    text: str,
    source: str,
) -> str:
    import mlflow  # noqa: PLC0415 - heavy

    client = MlflowClient()
    version = client.get_model_version(challenger.name, str(challenger.version))
    experiment_id = None
    if version.run_id:
        experiment_id = client.get_run(version.run_id).info.experiment_id
    name = f"evaluate {challenger.name} v{challenger.version} vs v{champion.version}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=name) as run:
        mlflow.set_tags(
            {
                "evaluation.challenger": challenger.load_uri,
                "evaluation.champion": champion.load_uri,
                "evaluation.source": source,
            }
        )
        mlflow.log_metrics(evaluation_parts)
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            (root / TABLE_FILE).write_text(text, encoding="utf-8")
            (root / JSON_FILE).write_text(comparison.to_json(), encoding="utf-8")
            pd.DataFrame(
                [{**vars(item), "change": item.change} for item in comparison.classes]
            ).to_csv(root / CLASSES_FILE, index=False, float_format="%.4f")
            mlflow.log_artifacts(str(root), ARTIFACT_DIR)
        run_id: str = run.info.run_id
    tags = {
        F1_GAIN_TAG: f"{comparison.f1_gain.value:.6f}",
        "evaluation.weighted_f1_gain_ci": (
            f"[{comparison.f1_gain.low:.6f}, {comparison.f1_gain.high:.6f}]"
        ),
        ACCURACY_GAIN_TAG: f"{comparison.accuracy_gain.value:.6f}",
        "evaluation.accuracy_gain_ci": (
            f"[{comparison.accuracy_gain.low:.6f}, {comparison.accuracy_gain.high:.6f}]"
        ),
        ROWS_TAG: str(comparison.rows),
        CHAMPION_VERSION_TAG: str(champion.version),
        "evaluation.source": source,
        "evaluation.evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        RUN_TAG: run_id,
    }
    for key, value in tags.items():
        client.set_model_version_tag(challenger.name, str(challenger.version), key, value)
    return run_id


def evaluate_challenger(
    challenger_uri: str,
    champion_uri: str | None,
    rows: LabelledRows,
    *,
    resamples: int = RESAMPLES,
    load: Callable[[str], Any] = load_pyfunc,
) -> ChallengerEvaluation:
    """Score both versions on ``rows``, log the comparison, tag the challenger's version.

    Tracking must be configured. Rows either model refuses are left out for both.

    Args:
        challenger_uri: ``models:/NAME/VERSION`` (or an alias) of the challenger.
        champion_uri: The version to beat (default ``models:/NAME@production``).
        rows: The labelled rows to replay.
        resamples: Bootstrap draws for the intervals.
        load: Loads a pyfunc from ``models:/NAME/VERSION``.

    Raises:
        RegistryError: A version or alias does not exist, or both are the same version.
        ValueError: Neither model could score any row.
    """
    challenger, champion = resolve_pair(challenger_uri, champion_uri)
    scored = {}
    for reference in (champion, challenger):
        logger.info("Scoring %d rows with %s...", len(rows.inputs), reference.load_uri)
        scored[reference.load_uri] = predict_probabilities(load(reference.load_uri), rows.inputs)
    (old, old_errors), (new, new_errors) = scored[champion.load_uri], scored[challenger.load_uri]
    kept = np.array(
        [
            first is None and second is None
            for first, second in zip(old_errors, new_errors, strict=True)
        ],
        dtype=bool,
    )
    if not kept.any():
        raise ValueError(f"Neither model could score any row of the {rows.source}.")
    comparison = compare(rows.labels[kept], old[kept], new[kept], resamples=resamples)
    text = comparison_text(comparison, champion.load_uri, challenger.load_uri, rows.source)
    refused = int((~kept).sum())
    if refused:
        text += f"\n{refused} rows left out: refused by either model.\n"
    metrics = {
        "rows": float(comparison.rows),
        "champion_accuracy": comparison.champion_accuracy,
        "challenger_accuracy": comparison.challenger_accuracy,
        "champion_f1_weighted": comparison.champion_f1,
        "challenger_f1_weighted": comparison.challenger_f1,
        "accuracy_gain": comparison.accuracy_gain.value,
        "accuracy_gain_ci_low": comparison.accuracy_gain.low,
        "accuracy_gain_ci_high": comparison.accuracy_gain.high,
        "f1_weighted_gain": comparison.f1_gain.value,
        "f1_weighted_gain_ci_low": comparison.f1_gain.low,
        "f1_weighted_gain_ci_high": comparison.f1_gain.high,
    }
    run_id = _log(
        metrics,
        challenger=challenger,
        champion=champion,
        comparison=comparison,
        text=text,
        source=rows.source,
    )
    return ChallengerEvaluation(challenger, champion, comparison, refused, text, run_id)
