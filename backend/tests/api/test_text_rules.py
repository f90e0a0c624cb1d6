"""The text rules on raw bytes, and the safe 422 entries (no application needed)."""

import json

import pytest

from app.api.errors import MAX_MESSAGE_CHARS, safe_errors
from app.api.text_rules import (
    NUL_TYPE,
    UNICODE_TYPE,
    Utf8Stream,
    json_escape_problem,
    urlencoded_problem,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'"\\u0000"', NUL_TYPE),
        (b'"\\\\u0000"', None),  # an escaped backslash, then the text "u0000"
        (b'"\\\\\\u0000"', NUL_TYPE),  # an escaped backslash, then NUL
        (b'"\\ud83d\\ude00"', None),  # a surrogate pair: one character
        (b'"\\uD83D\\uDE00"', None),
        (b'"\\ud83d"', UNICODE_TYPE),
        (b'"\\ude00"', UNICODE_TYPE),
        (b'"\\ud83d\\n"', UNICODE_TYPE),
        (b'"\\ud83d", "\\ude00"', UNICODE_TYPE),  # not adjacent: two lone halves
        (b'"\\ud83d\\ud83d\\ude00"', UNICODE_TYPE),
        (b'{"a": "\\u00e9\\u20ac"}', None),
        (b'"no escapes at all"', None),
    ],
)
def test_json_escapes(body, expected):
    assert json_escape_problem(body) == expected


@pytest.mark.parametrize(
    ("query", "loc", "error_type"),
    [
        (b"a=%00", ("query", "a"), NUL_TYPE),
        (b"a=1&b=x%00y", ("query", "b"), NUL_TYPE),
        (b"a=%ED%A0%80", ("query", "a"), UNICODE_TYPE),
        (b"a=%FF", ("query", "a"), UNICODE_TYPE),
        (b"a=%C3", ("query", "a"), UNICODE_TYPE),  # a character cut in half
        (b"%00=1", ("query",), NUL_TYPE),
    ],
)
def test_refused_query_strings(query, loc, error_type):
    problem = urlencoded_problem(query, "query")
    assert problem is not None
    assert (problem.loc, problem.type) == (loc, error_type)


@pytest.mark.parametrize(
    "query", [b"", b"a=%C3%A9", b"a=b+c&d=", b"a=%F0%9F%90%B0", b"&&a", b"a=%zz"]
)
def test_accepted_query_strings(query):
    assert urlencoded_problem(query, "query") is None


def test_utf8_stream_accepts_a_character_split_across_chunks():
    stream = Utf8Stream()
    encoded = "é🐰".encode()
    for position in range(len(encoded)):
        assert stream.feed(encoded[position : position + 1], final=position == len(encoded) - 1)
    assert stream.problem is None
    cut = Utf8Stream()
    assert cut.feed(b"\xc3") is True
    assert cut.feed(b"", final=True) is False
    assert cut.problem == UNICODE_TYPE


def test_safe_errors_drop_the_input_and_can_always_be_encoded():
    errors = [
        {
            "loc": ("body", "na\ud800me", 3),
            "msg": "bad \ud83d value " + "x" * 1000,
            "type": "value_error",
            "input": "the whole upload",
            "ctx": {"error": ValueError("boom")},
        }
    ]
    (safe,) = safe_errors(errors)
    assert set(safe) == {"loc", "msg", "type"}
    assert len(safe["msg"]) == MAX_MESSAGE_CHARS
    assert safe["loc"][2] == 3
    json.dumps(safe, ensure_ascii=False).encode("utf-8")  # what JSONResponse does
