"""The API process serving a model exported to ONNX never imports TensorFlow, Keras or scikit-learn.

A fresh Python process builds the application, loads the session's text model, or its fusion
model (text and an image tower; the demo's kind of model), each logged with its ONNX export and
its TF-IDF tables (``MODEL_RUNTIME`` unset, so ONNX Runtime serves it), answers a prediction
(with a JPEG for the fusion model), and then lists the modules it imported: importing
TensorFlow alone costs about 5 s and 800 MB, scikit-learn (to unpickle the featurizer) and
matplotlib (the evaluation reports) seconds and tens of MB more.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Account

# The fusion case waits for the session's fusion training: many minutes on a busy 2-core machine.
pytestmark = pytest.mark.timeout(2400)

BACKEND_DIR = Path(__file__).resolve().parents[2]
HEAVY_PACKAGES = ("tensorflow", "keras", "tf_keras", "tf2onnx", "sklearn", "matplotlib")

SCRIPT = """
import io, json, sys
from fastapi.testclient import TestClient
from PIL import Image
from app.core.config import Settings
from app.main import create_app

database_url, authorization, model_name = sys.argv[1], sys.argv[2], sys.argv[4]
settings = Settings(
    SQLALCHEMY_DATABASE_URI=database_url,
    MODEL_NAME=model_name,
    MODEL_ALIAS="production",
    MODEL_CHALLENGER_ALIAS="",
    MODEL_RELOAD_INTERVAL_SECONDS=3600,
)
jpeg = io.BytesIO()
Image.radial_gradient("L").convert("RGB").save(jpeg, format="JPEG")
image = ("product.jpg", jpeg.getvalue(), "image/jpeg")
files = {"image": image} if model_name == "fusion" else None
with TestClient(create_app(settings)) as client:
    response = client.post(
        "/api/v1/predict/",
        params={"designation": "Jeu de société"},
        files=files,
        headers={"Authorization": authorization},
    )
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(sys.argv[3].split(",")))
print(json.dumps({"status": response.status_code, "heavy": heavy}))
"""


@pytest.mark.parametrize("model_name", ["text", "fusion"])
def test_the_api_serves_an_onnx_model_without_importing_tensorflow_or_scikit_learn(
    database_url: str, model_name: str, request: pytest.FixtureRequest, user: Account
) -> None:
    # The fusion model trains in the background while the text model's tests run.
    request.getfixturevalue("trained_fusion" if model_name == "fusion" else "trained_text")
    env = {key: value for key, value in os.environ.items() if key != "MODEL_RUNTIME"}
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            database_url,
            user.headers["Authorization"],
            ",".join(HEAVY_PACKAGES),
            model_name,
        ],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome == {"status": 200, "heavy": []}
