"""A database seeded with known predictions and feedback, and models registered with profiles.

Every figure the monitoring tests expect is worked out by hand in the docstrings below.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient
from sqlalchemy.orm import Session, sessionmaker

from app.db.models import Feedback, Prediction
from product_classifier.drift_reference import PROFILE_ARTIFACT, ProfileBuilder

NOW = datetime.now(UTC)
RECENT = NOW - timedelta(days=1)
OLD = NOW - timedelta(days=40)

# Feedback (real, predicted) of the last 7 days.
#   version "1": (10,10) x2, (10,40) x1, (40,40) x1
#     accuracy 3/4 = 0.75
#     category 10: support 3, 2 hits, 2 predicted -> P 1, R 2/3, F1 0.8
#     category 40: support 1, 1 hit, 2 predicted -> P 1/2, R 1, F1 2/3
#     weighted F1 = (3 * 0.8 + 1 * 2/3) / 4 = 0.766666...
#   version "2": (1280,1280) x1, (1280,1281) x2
#     accuracy 1/3; category 1280: P 1, R 1/3, F1 0.5 (support 3); 1281 has no support -> 0.5
# Feedback 40 days old, version "1": (10,2905) x1 (outside a 7-day window).
RECENT_FEEDBACK = {
    "1": [(10, 10), (10, 10), (10, 40), (40, 40)],
    "2": [(1280, 1280), (1280, 1281), (1280, 1281)],
}
OLD_FEEDBACK = {"1": [(10, 2905)]}
V1_ACCURACY = 0.75
V1_WEIGHTED_F1 = (3 * 0.8 + 1 * 2 / 3) / 4
V2_ACCURACY = 1 / 3
V2_WEIGHTED_F1 = 0.5


@dataclass(frozen=True)
class Product:
    """What a product looks like to the profile."""

    designation: str
    description: str
    has_image: bool
    category: int


def _products(count: int, **fields: object) -> list[Product]:
    return [Product(**fields) for _ in range(count)]  # type: ignore[arg-type]


# Training rows of the profiled model: 100 products.
#   designation: 50 of 30 characters (bin [20,40)), 50 of 70 (bin [60,80)); mean 50
#   description: 40 empty, 60 of 150 characters (bin [100,250)); empty rate 0.40
#   images: 80 of 100 -> 0.80; categories: 50 x 10, 50 x 40
TRAINING = (
    _products(40, designation="a" * 30, description="", has_image=True, category=10)
    + _products(10, designation="a" * 30, description="d" * 150, has_image=False, category=10)
    + _products(40, designation="a" * 70, description="d" * 150, has_image=True, category=40)
    + _products(10, designation="a" * 70, description="d" * 150, has_image=False, category=40)
)
# Recent predictions of that model (last 7 days): 20 products.
#   designation: 20 of 30 characters; mean 30
#   description: 15 empty, 5 of 150 -> empty rate 0.75 (difference 0.35 > 0.10: drift)
#   images: 4 of 20 -> 0.20 (difference 0.60 > 0.10: drift); predicted: 20 x 10
RECENT_PRODUCTS = (
    _products(4, designation="a" * 30, description="", has_image=True, category=10)
    + _products(11, designation="a" * 30, description="", has_image=False, category=10)
    + _products(5, designation="a" * 30, description="d" * 150, has_image=False, category=10)
)
# Outside the window, or another version: never counted.
IGNORED_PRODUCTS = _products(
    3, designation="z" * 300, description="x", has_image=True, category=2905
)


def profile_of(products: list[Product], source: str = "") -> dict[str, object]:
    """The data profile dictionary of ``products``."""
    builder = ProfileBuilder()
    for product in products:
        builder.add(
            product.designation,
            product.description,
            has_image=product.has_image,
            category=product.category,
        )
    return builder.build(source).to_dict()


def _prediction(
    model_name: str, version: str, product: Product, created_at: datetime
) -> Prediction:
    others = [{"category_id": 2583, "probabilities": 5.0}]
    return Prediction(
        created_at=created_at,
        model_name=model_name,
        model_version=version,
        designation=product.designation,
        description=product.description,
        image_sha256=("0" * 64) if product.has_image else None,
        image_size_bytes=1000 if product.has_image else None,
        image_width=64 if product.has_image else None,
        image_height=48 if product.has_image else None,
        results=[{"category_id": product.category, "probabilities": 95.0}, *others],
        latency_ms=1.0,
    )


@dataclass(frozen=True)
class RegisteredModels:
    """Registered model names, each at version 1."""

    with_profile: str
    without_profile: str
    with_dataset_folder: str
    dataset_dir: Path


def write_dataset_folder(folder: Path, products: list[Product]) -> None:
    """A minimal dataset folder (train and test splits, images of the products that have one)."""
    (folder / "images").mkdir(parents=True)
    for split in ("train", "test"):
        rows = products if split == "train" else products[:2]
        features = pd.DataFrame(
            {
                "designation": [p.designation for p in rows],
                "description": [p.description for p in rows],
                "productid": list(range(1, len(rows) + 1)),
                "imageid": list(range(101, len(rows) + 101)),
            }
        )
        features.to_csv(folder / f"X_{split}.csv")
        pd.DataFrame({"prdtypecode": [p.category for p in rows]}).to_csv(folder / f"y_{split}.csv")
        if split == "train":
            for position, product in enumerate(rows):
                if product.has_image:
                    name = f"image_{position + 101}_product_{position + 1}.jpg"
                    (folder / "images" / name).write_bytes(b"jpeg")


def register_models(tracking_uri: str, root: Path) -> RegisteredModels:
    """Register three models at version 1: with a profile, without, with a dataset folder tag."""
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    suffix = uuid.uuid4().hex[:8]
    experiment = client.create_experiment(
        f"monitoring-{suffix}", artifact_location=(root / "artifacts").as_uri()
    )
    dataset_dir = root / "dataset"
    write_dataset_folder(dataset_dir, TRAINING)
    names = RegisteredModels(
        with_profile=f"monitored-{suffix}",
        without_profile=f"unprofiled-{suffix}",
        with_dataset_folder=f"tagged-{suffix}",
        dataset_dir=dataset_dir,
    )
    for name in (names.with_profile, names.without_profile, names.with_dataset_folder):
        run = client.create_run(experiment)
        run_id = run.info.run_id
        if name == names.with_profile:
            client.log_dict(run_id, profile_of(TRAINING, "training rows"), PROFILE_ARTIFACT)
        if name == names.with_dataset_folder:
            client.set_tag(run_id, "dataset", str(dataset_dir))
        client.set_terminated(run_id)
        client.create_registered_model(name)
        client.create_model_version(
            name, f"{run.info.artifact_uri}/model", run_id=run_id, await_creation_for=0
        )
    return names


def seed(factory: sessionmaker[Session], models: RegisteredModels) -> None:
    """Insert the predictions and feedback described above."""
    rows: list[Prediction | Feedback] = []
    rows += [_prediction(models.with_profile, "1", p, RECENT) for p in RECENT_PRODUCTS]
    rows += [_prediction(models.with_profile, "1", p, OLD) for p in IGNORED_PRODUCTS]
    rows += [_prediction(models.with_profile, "2", p, RECENT) for p in IGNORED_PRODUCTS]
    rows += [_prediction(models.without_profile, "1", p, RECENT) for p in RECENT_PRODUCTS]
    rows += [_prediction(models.with_dataset_folder, "1", p, RECENT) for p in RECENT_PRODUCTS]
    product_id = 1
    for feedback, created_at in ((RECENT_FEEDBACK, RECENT), (OLD_FEEDBACK, OLD)):
        for version, pairs in feedback.items():
            for real, predicted in pairs:
                rows.append(
                    Feedback(
                        created_at=created_at,
                        product_id=product_id,
                        model_version=version,
                        real_category_id=real,
                        pred_category_id=predicted,
                    )
                )
                product_id += 1
    with factory() as session:
        session.add_all(rows)
        session.commit()
