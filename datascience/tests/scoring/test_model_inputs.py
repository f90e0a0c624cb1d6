"""Scoring reads what the model reads: no images for the text model, no answer without input.

The session's real text and image models (:mod:`tests.trained_models`) score a small table
through :func:`~product_classifier.scoring.rows.score_rows` (what both engines call per batch)
and through the pyfunc interface MLflow serving calls.
"""

from pathlib import Path

import mlflow.pyfunc
import pandas as pd
import pytest
from mlflow.pyfunc import PyFuncModel
from mlflow.tracking import MlflowClient

from product_classifier.data.formats import IMAGES_DIR, X_FILE, image_file_name
from product_classifier.data.original import read_features
from product_classifier.scoring.catalogue import NO_INPUT, describe_table, model_rows
from product_classifier.scoring.columns import ERROR, category_column
from product_classifier.scoring.rows import NO_IMAGE, NO_TEXT, ScoringSettings, score_rows
from product_classifier.serving.pyfunc import InvalidInputError

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _latest(name: str) -> PyFuncModel:
    client = MlflowClient()
    version = max(int(item.version) for item in client.search_model_versions(f"name = '{name}'"))
    model: PyFuncModel = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return model


@pytest.fixture(scope="module")
def models(trained) -> dict[str, PyFuncModel]:
    return {name: _latest(name) for name in ("text", "image")}


@pytest.fixture(scope="module")
def table(trained, tmp_path_factory) -> Path:
    """Rows: text only, image only, text and a broken image, nothing, text and a good image."""
    folder: Path = tmp_path_factory.mktemp("model-inputs")
    first = read_features(trained.original / X_FILE).iloc[0]
    image = trained.original / IMAGES_DIR / image_file_name(first["imageid"], first["productid"])
    broken = folder / "broken.jpg"
    broken.write_bytes(b"not a JPEG")
    rows = [
        ("1", first["designation"], ""),
        ("2", "", str(image)),
        ("3", first["designation"], str(broken)),
        ("4", "", ""),
        ("5", first["designation"], str(image)),
    ]
    path = folder / "catalogue.parquet"
    frame = pd.DataFrame(rows, columns=["productid", "designation", "image_path"])
    frame.insert(2, "description", "")
    frame.to_parquet(path)
    return path


def _errors(model, table: Path) -> dict[str, str | None]:
    rows = model_rows(pd.read_parquet(table), describe_table(str(table)))
    scores = score_rows(model, rows, ScoringSettings(3, "m", "1"))
    assert scores[category_column(1)].isna().tolist() == scores[ERROR].notna().tolist()
    errors: dict[str, str | None] = dict(zip(scores["productid"], scores[ERROR], strict=True))
    return errors


def test_the_text_model_ignores_images_and_refuses_rows_without_text(models, table):
    errors = _errors(models["text"], table)
    # The broken image of row 3 is not even read: the text model never looks at it.
    assert errors == {"1": None, "2": NO_TEXT, "3": None, "4": NO_INPUT, "5": None}


def test_the_image_model_refuses_rows_without_an_image(models, table):
    errors = _errors(models["image"], table)
    assert errors["1"] == NO_IMAGE
    assert errors["2"] is None
    assert "Unreadable image" in str(errors["3"])
    assert errors["4"] == NO_INPUT
    assert errors["5"] is None


def test_serving_reads_numbers_as_text_like_the_catalogue(models):
    model = models["text"]
    # JSON records mixing numbers and text reach the model as an object column (a column of
    # numbers only is refused by MLflow's own schema check: the signature says string).
    mixed = pd.Series([12345, 3.0, "Lampe"], dtype=object)
    as_number = model.predict(pd.DataFrame({"designation": mixed}))
    as_text = model.predict(pd.DataFrame({"designation": ["12345", "3", "Lampe"]}))
    assert as_number == as_text
    # and that text is read, not the uniform answer of an empty row
    empty = model.predict(pd.DataFrame({"designation": [""]}))
    assert as_text[0] != empty[0]


def test_serving_ignores_image_paths_with_the_text_model(models, tmp_path):
    model = models["text"]
    missing = str(tmp_path / "missing.jpg")
    with_path = model.predict(pd.DataFrame({"designation": ["Lampe"], "image_path": [missing]}))
    without = model.predict(pd.DataFrame({"designation": ["Lampe"]}))
    assert with_path == without
    with pytest.raises(InvalidInputError, match="file not found"):
        models["image"].predict(pd.DataFrame({"image_path": [missing]}))


@pytest.mark.parametrize(
    "frame",
    [pd.DataFrame([{"title": "Livre"}, {"title": "x"}]), pd.DataFrame([{}])],
)
def test_serving_refuses_an_input_without_any_known_column(models, frame):
    # MLflow drops the columns its signature does not list: the model would see an empty table
    with pytest.raises(Exception, match="none of the columns product_id, designation"):
        models["text"].predict(frame)


def test_serving_refuses_bytes_that_are_not_utf8(models):
    with pytest.raises(Exception, match="designation cell is bytes that are not UTF-8"):
        models["text"].predict(pd.DataFrame({"designation": [b"Caf\xe9"]}))
    good = models["text"].predict(pd.DataFrame({"designation": ["Café".encode()]}))
    assert good == models["text"].predict(pd.DataFrame({"designation": ["Café"]}))
