"""The feedback export's refusals; the full path (API -> export -> create_datasets) is tested
in ``backend/tests/api/routes/test_feedback_export.py`` on SQLite and PostgreSQL."""

import sqlite3
from pathlib import Path

import pytest

from scripts import export_feedback_dataset


def _run(tmp_path: Path, database: str, *extra: str) -> int:
    return export_feedback_dataset.main(
        ["--output-dir", str(tmp_path / "out"), "--database-url", database, *extra]
    )


def test_a_missing_database_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(tmp_path, f"sqlite:///{tmp_path / 'absent.db'}") == 2
    assert "No database at" in capsys.readouterr().err
    assert not (tmp_path / "absent.db").exists()  # not created by the attempt
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("database", ["notaurl", "postgresql+psycopg2://user@host:port/app"])
def test_a_database_url_that_is_not_one_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database: str
) -> None:
    with pytest.raises(SystemExit) as stopped:  # an argparse usage error, before any work
        _run(tmp_path, database)
    assert stopped.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --database-url: cannot be read as a database URL" in error
    assert not (tmp_path / "out").exists()


def test_a_database_without_the_api_tables_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite3.connect(tmp_path / "other.db").close()
    assert _run(tmp_path, f"sqlite:///{tmp_path / 'other.db'}") == 2
    assert "Cannot read the feedback" in capsys.readouterr().err


def test_an_invalid_date_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _run(tmp_path, "sqlite://", "--since", "yesterday")
    assert exit_info.value.code == 2


def test_an_image_store_that_is_a_file_is_refused(tmp_path: Path) -> None:
    from product_classifier.data.feedback_export import _stored_images
    from product_classifier.data.original import DatasetError

    not_a_folder = tmp_path / "store"
    not_a_folder.write_text("not a folder")
    with pytest.raises(DatasetError, match="is a file, not the API's image store folder"):
        _stored_images(str(not_a_folder), ["ab" * 32])


def test_a_missing_image_store_is_said_and_rows_keep_their_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from product_classifier.data.feedback_export import _stored_images

    assert _stored_images(str(tmp_path / "typo"), ["ab" * 32]) == {}
    assert "does not exist: every row keeps its text only" in caplog.text


def test_stored_images_are_read_by_position(tmp_path: Path) -> None:
    from product_classifier.data.feedback_export import _stored_images
    from product_classifier.image_store import ImageStore, sha256_hex

    store = ImageStore(str(tmp_path / "store"))
    picture = b"\xff\xd8 a picture"
    store.put(picture)
    found = _stored_images(str(tmp_path / "store"), [None, sha256_hex(picture), "cd" * 32])
    assert found == {1: picture}
