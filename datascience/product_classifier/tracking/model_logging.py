"""Log a trained classifier as the generic pyfunc model and register it as a new version.

The logged model carries its artifacts (Keras model, TF-IDF featurizer pickled and as JSON tables,
JSON configuration), its
signature and this package as ``code_paths``, so it loads in a process that has the runtime
dependencies only (not the datascience package).
"""

import importlib.metadata
import pickle
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Final

import mlflow.pyfunc
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types.schema import Array, ColSpec, Object, Property, Schema

import product_classifier
from product_classifier.serving import model_code
from product_classifier.serving.contract import INPUT_COLUMNS
from product_classifier.serving.pyfunc import (
    CONFIG_ARTIFACT,
    FEATURIZER_ARTIFACT,
    MODEL_ARTIFACT,
    ONNX_ARTIFACT,
    TFIDF_TABLES_ARTIFACT,
    ServingConfig,
)
from product_classifier.serving.tfidf_tables import write_featurizer_tables
from product_classifier.tracking.registry import ensure_registered_model

LOGGED_MODEL_NAME: Final = "model"
RUNTIME_DISTRIBUTIONS: Final = (
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "mlflow",
    "numpy",
    "pandas",
    "pillow",
    "scikit-learn",
    "scipy",
    "snowballstemmer",
    "marisa-trie",
    "cloudpickle",
    "onnxruntime",
    "onnx",
)
"""What the logged model needs at prediction time (pinned to the versions trained with)."""

MODEL_SIGNATURE: Final = ModelSignature(
    inputs=Schema([ColSpec("string", name, required=False) for name in INPUT_COLUMNS]),
    outputs=Schema(
        [
            ColSpec(
                Array(
                    Object([Property("category_id", "long"), Property("probabilities", "double")])
                )
            )
        ]
    ),
)
"""Input: the four optional string columns. Output: per row, the 27 categories (percent)."""

INPUT_EXAMPLE: Final = pd.DataFrame(
    [{"product_id": "", "designation": "Peluche lapin", "description": "", "image_path": ""}]
)
"""A row every kind accepts (no image: an image model answers it with uniform probabilities)."""


def conda_environment(requirements: list[str]) -> dict[str, Any]:
    """Return the logged model's ``conda.yaml`` content: this Python, pip and ``requirements``.

    Given to MLflow whole, so that it does not probe the installed pip (a uv environment has
    none, and MLflow then warns on every model it logs).
    """
    python = ".".join(map(str, sys.version_info[:3]))
    return {
        "name": "mlflow-env",
        "channels": ["conda-forge"],
        "dependencies": [f"python={python}", "pip", {"pip": requirements}],
    }


def runtime_requirements() -> list[str]:
    """Return the pinned runtime requirements of a logged model (installed versions)."""
    requirements = []
    for distribution in RUNTIME_DISTRIBUTIONS:
        try:
            requirements.append(f"{distribution}=={importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return requirements


def _copy_package(destination: Path) -> Path:
    """Copy the ``product_classifier`` package (sources only) under ``destination``."""
    source = Path(product_classifier.__file__).resolve().parent
    target = destination / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def log_classifier_model(
    *,
    config: ServingConfig,
    keras_model_path: Path,
    registered_model_name: str,
    featurizer_path: Path | None = None,
    onnx_model_path: Path | None = None,
    tags: dict[str, str] | None = None,
) -> tuple[Any, int]:
    """Log the generic pyfunc model in the active run and register a new version.

    Args:
        config: What kind of model it is (saved as the ``config`` artifact).
        keras_model_path: The trained ``.keras`` model.
        registered_model_name: Registered model receiving the new version (created with a
            description and tags on first use).
        featurizer_path: Pickled TF-IDF featurizer (models reading text); its vocabularies and
            weights are also logged as JSON tables, which serving reads without scikit-learn.
        onnx_model_path: The same model exported to ONNX (served without TensorFlow when
            present; see :mod:`product_classifier.serving.runtime`).
        tags: Tags of the logged model.

    Returns:
        MLflow's ``ModelInfo`` and the new version of ``registered_model_name``.
    """
    client = MlflowClient()
    ensure_registered_model(registered_model_name, config.kind, client)
    with tempfile.TemporaryDirectory(prefix="pyfunc-") as folder:
        work = Path(folder)
        config_path = work / "config.json"
        config_path.write_text(config.to_json(), encoding="utf-8")
        artifacts = {MODEL_ARTIFACT: str(keras_model_path), CONFIG_ARTIFACT: str(config_path)}
        if config.reads_text:
            if featurizer_path is None:
                raise ValueError("A model reading text needs its featurizer.")
            artifacts[FEATURIZER_ARTIFACT] = str(featurizer_path)
            with featurizer_path.open("rb") as file:
                featurizer = pickle.load(file)  # noqa: S301 - written by this training
            tables_path = work / "text_tfidf_tables.json"
            if write_featurizer_tables(featurizer, tables_path):
                artifacts[TFIDF_TABLES_ARTIFACT] = str(tables_path)
        if onnx_model_path is not None:
            artifacts[ONNX_ARTIFACT] = str(onnx_model_path)
        info = mlflow.pyfunc.log_model(
            name=LOGGED_MODEL_NAME,
            python_model=str(Path(model_code.__file__)),
            artifacts=artifacts,
            code_paths=[str(_copy_package(work / "code"))],
            signature=MODEL_SIGNATURE,
            input_example=INPUT_EXAMPLE,
            conda_env=conda_environment(runtime_requirements()),
            tags=tags,
        )
    # Registered here rather than by log_model(registered_model_name=...), which prints that
    # the registered model "already exists" (ensure_registered_model has just created it).
    version = client.create_model_version(
        registered_model_name, info.model_uri, run_id=info.run_id, model_id=info.model_id
    )
    return info, int(version.version)
