"""A remote CSV row holding U+FFFD (Spark's stand-in for bytes that are not UTF-8) is an error.

The local engine and the Spark engine on a local CSV refuse such a file outright (it is read
through first); a remote file cannot be, so its rows are checked one by one instead of being
scored from altered text.
"""

import pandas as pd

from product_classifier.scoring.catalogue import Catalogue, CatalogueFormat, model_rows
from product_classifier.scoring.spark_engine import refuse_replaced_text

REMOTE_CSV = Catalogue(
    format=CatalogueFormat.CSV,
    location="s3a://bucket/catalogue.csv",
    image_base="s3a://bucket",
    text_only=True,
)


def test_rows_holding_u_fffd_are_errors_and_the_others_are_untouched() -> None:
    raw = pd.DataFrame(
        {
            "productid": ["1", "2", "3", "4"],
            "designation": ["Livre de cuisine", "Caf\ufffd moulu", None, ""],
            "description": [None, "", "Th\ufffd vert", ""],
        }
    )
    rows = refuse_replaced_text(raw, model_rows(raw, REMOTE_CSV))
    errors = rows["error"].tolist()
    assert errors[0] is None
    assert errors[1] == "designation is not text in UTF-8 (U+FFFD as Spark read it)"
    assert errors[2] == "description is not text in UTF-8 (U+FFFD as Spark read it)"
    assert errors[3] is not None  # no text at all: its own error is kept
    assert "U+FFFD" not in errors[3]
    assert rows["designation"].tolist()[0] == "Livre de cuisine"


def test_an_earlier_error_of_the_row_is_kept() -> None:
    raw = pd.DataFrame({"productid": ["\ufffd"], "designation": [""], "description": [None]})
    before = model_rows(raw, REMOTE_CSV)["error"].tolist()
    after = refuse_replaced_text(raw, model_rows(raw, REMOTE_CSV))["error"].tolist()
    assert before[0] is not None
    assert after == before
