"""Find the training-data profile of a registered model version (the drift reference).

In order:

1. the ``data_profile.json`` artifact of the version's training run (what the training pipeline
   logs with ``log_training_data_profile``);
2. otherwise, when the run's ``dataset`` tag names a dataset folder readable from here, the
   profile of that folder's ``train`` split, computed now (it includes the validation rows the
   run held out: close to, but not exactly, the rows the model was fitted on);
3. otherwise no reference: the drift report says why and flags nothing.

Lookups are cached per (tracking URI, model, version) for a few minutes.
"""

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final

from product_classifier.drift_reference import (
    PROFILE_ARTIFACT,
    DataProfile,
    load_data_profile,
    profile_dataset_rows,
)

logger = logging.getLogger(__name__)

CACHE_SECONDS: Final = 300.0
DATASET_TAG: Final = "dataset"


@dataclass(frozen=True)
class Reference:
    """The training-data profile of a model version, or why there is none."""

    profile: DataProfile | None
    source: str


def _from_dataset_folder(run_id: str, folder: str) -> Reference | None:
    from product_classifier.data.dataset_folder import read_split  # noqa: PLC0415
    from product_classifier.data.original import DatasetError  # noqa: PLC0415

    dataset_dir = Path(folder)
    if not dataset_dir.is_dir():
        return None
    try:
        features, codes = read_split(dataset_dir, "train")
    except (DatasetError, OSError, ValueError) as error:
        logger.warning("Cannot read the dataset folder %s of run %s: %s", folder, run_id, error)
        return None
    source = (
        f"train split of {dataset_dir} (run {run_id}'s dataset tag), profiled by the API: "
        f"the run has no {PROFILE_ARTIFACT}"
    )
    return Reference(profile_dataset_rows(features, codes, dataset_dir, source=source), source)


def find_reference(tracking_uri: str, model_name: str, model_version: str) -> Reference:
    """Look the training-data profile of ``models:/model_name/model_version`` up (uncached)."""
    from mlflow.exceptions import MlflowException  # noqa: PLC0415
    from mlflow.tracking import MlflowClient  # noqa: PLC0415

    from product_classifier.tracking.registry import find_registered_version  # noqa: PLC0415

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    uri = f"models:/{model_name}/{model_version}"
    try:
        found = find_registered_version(model_name, version=model_version, client=client)
    except MlflowException as error:
        problem = f"no reference: cannot ask the registry for {uri} ({error.error_code})."
        return Reference(None, problem)
    if found is None:
        return Reference(None, f"no reference: {uri} is not in the registry.")
    run_id = found.run_id
    if not run_id:
        return Reference(None, f"no reference: {uri} has no training run.")
    try:
        profile = load_data_profile(run_id, tracking_uri)
    except ValueError as error:
        logger.warning("Ignoring the data profile of run %s: %s", run_id, error)
        profile = None
    if profile is not None:
        return Reference(profile, f"{PROFILE_ARTIFACT} of run {run_id} ({uri})")
    try:
        folder = client.get_run(run_id).data.tags.get(DATASET_TAG)
    except MlflowException:
        folder = None
    if folder:
        from_folder = _from_dataset_folder(run_id, folder)
        if from_folder is not None:
            return from_folder
    return Reference(
        None,
        f"no reference: run {run_id} of {uri} has no {PROFILE_ARTIFACT} and its dataset folder "
        f"({folder or 'unknown'}) is not readable here; retrain with a pipeline that logs the "
        "training-data profile.",
    )


class ReferenceCache:
    """Caches :func:`find_reference` answers for ``seconds``."""

    def __init__(self, tracking_uri: str, seconds: float = CACHE_SECONDS) -> None:
        self.tracking_uri = tracking_uri
        self.seconds = seconds
        self._entries: dict[tuple[str, str], tuple[float, Reference]] = {}
        self._lock = threading.Lock()

    def get(self, model_name: str, model_version: str) -> Reference:
        """The reference of a model version (looked up at most once per ``seconds``)."""
        key = (model_name, model_version)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self.seconds:
                return entry[1]
        reference = find_reference(self.tracking_uri, model_name, model_version)
        with self._lock:
            self._entries[key] = (now, reference)
        return reference


@lru_cache(maxsize=8)
def reference_cache(tracking_uri: str) -> ReferenceCache:
    """The process-wide cache of one tracking store."""
    return ReferenceCache(tracking_uri)
