"""Platform and demo settings: values that would fail later are refused when read, in one line.

Each of these passed validation and then failed at first use (a traceback in a command, an API
that never starts or never finds its model); each is now an ``invalid settings`` error naming
the setting and what is expected.
"""

from pathlib import Path

import pytest
from pydantic import ValidationError
from scripts.demo_bookkeeping import DemoSettings

from product_classifier.paths import REPOSITORY_ROOT
from product_classifier.settings import PlatformSettings, settings_error_line


def error_line(settings_class: type[PlatformSettings] | type[DemoSettings], **values: str) -> str:
    """The one-line error of reading ``settings_class`` with ``values``."""
    with pytest.raises(ValidationError) as error:
        settings_class(**values)  # type: ignore[arg-type]
    return settings_error_line(error.value)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SQLALCHEMY_DATABASE_URI", "notaurl", "cannot be read as a database URL: expected sqlite"),
        ("SQLALCHEMY_DATABASE_URI", "postgresql://u@h:port/d", "cannot be read as a database"),
        ("SQLALCHEMY_DATABASE_URI", "mysql://x/y", '"mysql://x/y" (mysql+mysqldb) is not supp'),
        ("SQLALCHEMY_DATABASE_URI", "postgresql+asyncpg://u:pw@h/d", '"postgresql+asyncpg://u:***'),
        ("IMAGE_STORE_URL", "nosuch://x", '"nosuch://" is not a protocol fsspec knows'),
        ("IMAGE_STORE_URL", "s3://bucket/x", "s3:// needs a package that is not installed: "),
        ("IMAGE_STORE_URL", "simplecache::s3://bucket", "s3:// needs a package"),
        ("IMAGE_STORE_URL", "/etc/passwd", '"/etc/passwd" is not a folder: expected a folder'),
        ("IMAGE_STORE_URL", "/etc/passwd/images", '"/etc/passwd" is not a folder'),
        ("IMAGE_STORE_URL", "file:///etc/passwd", '"/etc/passwd" is not a folder'),
        ("STATE_DIR", "", "must not be empty: expected a folder of its own"),
        ("STATE_DIR", ".", '"." is the repository root: expected a folder of its own'),
        ("STATE_DIR", "/etc/passwd", "cannot be a folder: /etc/passwd is a file"),
        ("STATE_DIR", "/etc/passwd/state", "cannot be a folder: /etc/passwd is a file"),
        ("MODEL_NAME", "", "must not be empty: expected the name of a registered model"),
        ("MODEL_NAME", "a/b", '"a/b" is not a registered model name MLflow accepts'),
        ("MODEL_NAME", "..", '".." is not a registered model name MLflow accepts'),
        ("MODEL_ALIAS", "", '"" is not an MLflow model alias: expected 1 to 255 letters'),
        ("MODEL_ALIAS", "a b", '"a b" is not an MLflow model alias'),
        ("MODEL_ALIAS", "a" * 256, "is not an MLflow model alias"),
        ("MODEL_ALIAS", "v2", '"v2" is reserved by MLflow for version 2'),
    ],
)
def test_a_value_that_would_fail_at_first_use_is_refused_when_read(
    name: str, value: str, expected: str
) -> None:
    line = error_line(PlatformSettings, **{name: value})
    assert line.startswith(f"invalid settings: {name}: "), line
    assert expected in line, line
    assert "pw" not in line, "a password in the URL is never echoed"


def test_the_state_dir_refusals_keep_the_repository_root_clean() -> None:
    assert "repository root" in error_line(PlatformSettings, STATE_DIR=str(REPOSITORY_ROOT))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/app.db", "sqlite:///var/app.db"),
        ("postgres://u:p@h/d", "postgresql+psycopg2://u:p@h/d"),
        ("postgresql+psycopg2://u@h:5433/d", "postgresql+psycopg2://u@h:5433/d"),
    ],
)
def test_sqlite_and_postgresql_urls_are_accepted(url: str, expected: str) -> None:
    assert PlatformSettings(SQLALCHEMY_DATABASE_URI=url).database_url == expected


def test_image_stores_fsspec_can_open_are_accepted(tmp_path: Path) -> None:
    for url in ("memory://images", "simplecache::memory://x", str(tmp_path / "new" / "images")):
        assert url == PlatformSettings(IMAGE_STORE_URL=url).IMAGE_STORE_URL
    assert PlatformSettings(IMAGE_STORE_URL=str(tmp_path)).image_store_url == str(tmp_path)
    assert PlatformSettings(IMAGE_STORE_URL="").image_store_url.endswith("images")


@pytest.mark.parametrize("alias", ["production", "Champion_2", "a-b", "latest", "v1a"])
def test_mlflow_aliases_are_accepted(alias: str) -> None:
    assert alias == PlatformSettings(MODEL_NAME="fusion.v2 (text)", MODEL_ALIAS=alias).MODEL_ALIAS


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEMO_IMAGE_SIZE", "8", "DEMO_IMAGE_SIZE: Input should be greater than or equal to 32"),
        ("DEMO_IMAGE_SIZE", "1025", "DEMO_IMAGE_SIZE: Input should be less than or equal to 1024"),
        ("DEMO_SEED", "-1", "DEMO_SEED: Input should be greater than or equal to 0"),
        ("DEMO_SEED", str(2**32), "DEMO_SEED: Input should be less than or equal to 4294967295"),
        ("DEMO_IMAGE_WEIGHTS", "nofile.h5", "DEMO_IMAGE_WEIGHTS: 'nofile.h5' is neither"),
    ],
)
def test_demo_settings_are_bounded_as_the_readme_says(name: str, value: str, expected: str) -> None:
    assert f"invalid settings: {expected}" in error_line(DemoSettings, **{name: value})


def test_demo_weights_are_none_imagenet_or_a_file(tmp_path: Path) -> None:
    weights = tmp_path / "backbone.weights.h5"
    weights.write_bytes(b"")
    assert DemoSettings(DEMO_IMAGE_WEIGHTS="ImageNet").DEMO_IMAGE_WEIGHTS == "imagenet"
    assert str(weights) == DemoSettings(DEMO_IMAGE_WEIGHTS=str(weights)).DEMO_IMAGE_WEIGHTS
    assert DemoSettings(DEMO_IMAGE_SIZE=32, DEMO_SEED=2**32 - 1).DEMO_SEED == 2**32 - 1
