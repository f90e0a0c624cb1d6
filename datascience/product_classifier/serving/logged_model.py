"""Load one of our logged models straight from its artifacts, without ``mlflow.pyfunc``.

``mlflow.pyfunc.load_model`` fetches the whole logged model (with its ``.keras`` file: 170 MB
for the real-sample text model, copied at every start even from a local store), then runs the
logged ``model_code.py``. A process that only serves our models (the API) needs less: this
module reads the ``MLmodel`` file, fetches only the artifacts the chosen runtime reads (not the
``.keras`` file when the model runs on ONNX) with :func:`mlflow.artifacts.download_artifacts`,
which reads a local store's files where they are, and builds :class:`ProductClassifier` from
them, as its ``load_context`` does. Models that are not ours (another loader) go through
``mlflow.pyfunc`` as before, and ``mlflow models serve`` and batch scoring keep using it.
"""

import logging
from dataclasses import dataclass
from typing import Any, Final

from product_classifier.serving.pyfunc import MODEL_ARTIFACT, ONNX_ARTIFACT, ProductClassifier
from product_classifier.serving.runtime import Runtime, requested_runtime, resolve_runtime

logger = logging.getLogger(__name__)

CODE_MODEL_LOADER: Final = "mlflow.pyfunc.loaders.code_model"
MODEL_CODE_FILE: Final = "model_code.py"


@dataclass(frozen=True)
class LoadedModel:
    """A loaded logged model: what answers predictions, and the run that logged it."""

    predictor: Any
    run_id: str | None


def _download(uri: str) -> str:
    import mlflow.artifacts  # noqa: PLC0415 - the caller has imported MLflow already

    return str(mlflow.artifacts.download_artifacts(artifact_uri=uri))


def ours(flavors: dict[str, Any]) -> bool:
    """Whether an ``MLmodel``'s flavors describe one of our product classifiers (from code)."""
    flavor = flavors.get("python_function", {})
    return (
        flavor.get("loader_module") == CODE_MODEL_LOADER
        and str(flavor.get("model_code_path", "")).endswith(MODEL_CODE_FILE)
        and isinstance(flavor.get("artifacts"), dict)
    )


def load_logged_model(model_uri: str) -> LoadedModel:
    """Load ``model_uri`` (e.g. ``models:/text/3``) for serving.

    Args:
        model_uri: Any URI MLflow resolves to a logged model's folder.

    Returns:
        Our :class:`ProductClassifier` built from the artifacts it reads, or, for a model of
        another kind, what ``mlflow.pyfunc.load_model(...).unwrap_python_model()`` returns.

    Raises:
        Exception: Whatever MLflow raises when the model or an artifact cannot be fetched, and
            ``ValueError`` from :meth:`ProductClassifier.load_artifacts`.
    """
    from mlflow.models import Model  # noqa: PLC0415 - the caller has imported MLflow already

    base = model_uri.rstrip("/")
    mlmodel = Model.load(_download(f"{base}/MLmodel"))
    run_id = mlmodel.run_id
    if not ours(mlmodel.flavors):
        import mlflow.pyfunc  # noqa: PLC0415 - only for models that are not ours

        logger.info("%s is not a product classifier of this code: loading it with pyfunc.", base)
        return LoadedModel(mlflow.pyfunc.load_model(base).unwrap_python_model(), run_id)
    specs: dict[str, dict[str, str]] = mlmodel.flavors["python_function"]["artifacts"]
    runtime = resolve_runtime(requested_runtime(), ONNX_ARTIFACT in specs)
    # On ONNX the .keras file is not read: fetching it would cost the most of the start-up.
    skipped = {MODEL_ARTIFACT} if runtime is Runtime.ONNX else set()
    paths = {
        name: _download(f"{base}/{spec['path']}")
        for name, spec in specs.items()
        if name not in skipped
    }
    predictor = ProductClassifier()
    predictor.load_artifacts(paths)
    return LoadedModel(predictor, run_id)
