"""The training-data profile: hand-checked figures, JSON round trip, logged and read back."""

import json

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from product_classifier.drift_reference import (
    DESCRIPTION_LENGTH_EDGES,
    PROFILE_ARTIFACT,
    DataProfile,
    ProfileBuilder,
    load_data_profile,
    log_training_data_profile,
    profile_dataset_rows,
)


def _features() -> tuple[pd.DataFrame, "pd.Series[int]"]:
    features = pd.DataFrame(
        {
            "designation": ["a" * 5, "b" * 25, "c" * 300, "d" * 45],
            "description": ["", "  \n", "x" * 150, "y" * 5000],
            "productid": [1, 2, 3, 4],
            "imageid": [11, 12, 13, 14],
        }
    )
    return features, pd.Series([10, 10, 2905, 1280])


def test_profile_is_hand_checked(tmp_path):
    features, codes = _features()
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "image_12_product_2.jpg").write_bytes(b"jpeg")
    (tmp_path / "images" / "image_14_product_4.jpg").write_bytes(b"jpeg")

    profile = profile_dataset_rows(features, codes, tmp_path, source="four rows")

    assert profile.rows == 4
    # Designation lengths 5, 25, 300, 45 -> bins [0,20), [20,40), [250,inf), [40,60).
    assert profile.designation_length.counts == (1, 1, 1, 0, 0, 0, 0, 0, 0, 1)
    assert profile.designation_length.mean == pytest.approx((5 + 25 + 300 + 45) / 4)
    # Description lengths 0, 3, 150, 5000 -> bins [0,1), [1,100), [100,250), [4000,inf).
    assert DESCRIPTION_LENGTH_EDGES == (0, 1, 100, 250, 500, 1000, 2000, 4000)
    assert profile.description_length.counts == (1, 1, 1, 0, 0, 0, 0, 1)
    # "" and a whitespace-only description are both empty.
    assert profile.empty_descriptions == 2
    assert profile.empty_description_rate == 0.5
    assert profile.with_image == 2
    assert profile.image_rate == 0.5
    assert profile.categories == {10: 2, 1280: 1, 2905: 1}
    assert sum(profile.category_counts()) == 4
    assert profile.source == "four rows"


def test_no_dataset_folder_means_no_image():
    features, codes = _features()
    assert profile_dataset_rows(features, codes, None).with_image == 0


def test_unknown_categories_are_not_counted():
    builder = ProfileBuilder()
    builder.add("t", "d", has_image=False, category=12345)
    builder.add("t", "d", has_image=True, category=None)
    profile = builder.build()
    assert profile.rows == 2
    assert profile.categories == {}


def test_json_round_trip():
    features, codes = _features()
    profile = profile_dataset_rows(features, codes, None, source="s")
    text = json.dumps(profile.to_dict())
    assert DataProfile.from_dict(json.loads(text)) == profile


def test_unknown_format_is_refused():
    features, codes = _features()
    values = profile_dataset_rows(features, codes, None).to_dict()
    with pytest.raises(ValueError, match="format"):
        DataProfile.from_dict({**values, "format": 99})
    with pytest.raises(ValueError, match="Malformed"):
        DataProfile.from_dict({"format": 1, "rows": 3})


def test_logged_in_the_run_and_read_back(tmp_path):
    tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.create_experiment("profile", artifact_location=str(tmp_path / "art"))
    features, codes = _features()
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_uri)
    try:
        with mlflow.start_run(experiment_id=experiment) as run:
            logged = log_training_data_profile(features, codes, tmp_path)
        with mlflow.start_run(experiment_id=experiment) as empty_run:
            pass
    finally:
        mlflow.set_tracking_uri(previous)

    artifacts = [item.path for item in client.list_artifacts(run.info.run_id)]
    assert PROFILE_ARTIFACT in artifacts
    assert load_data_profile(run.info.run_id, tracking_uri) == logged
    assert logged.source == f"training rows of {tmp_path.resolve()}"
    assert load_data_profile(empty_run.info.run_id, tracking_uri) is None
