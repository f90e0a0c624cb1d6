r"""What text the API accepts, decided once for every way text arrives.

Text must be valid Unicode without NUL: a NUL character (U+0000), a byte sequence that is not
UTF-8 (including an encoded UTF-16 surrogate such as ``%ED%A0%80``) and a lone surrogate escape
in JSON (``"\ud83d"`` without its low half) are refused with a 422 that names the field. Nothing
is stripped or replaced: what the API stores is exactly what the caller sent.

Why refuse rather than strip: NUL never belongs in a product title, an e-mail or a password, and
PostgreSQL cannot store it in text while SQLite can, so accepting it would make the two databases
disagree; a lone surrogate cannot be encoded at all. Silently changing the text would store
something the caller did not send (a password that no longer matches, a title that differs
from the one displayed).

The functions here work on raw bytes, before any framework decodes them (Starlette replaces
invalid UTF-8 with U+FFFD in query strings and falls back to Latin-1 in form fields, which
would hide the fault): :mod:`app.api.input_boundary` applies them to every request.
"""

import codecs
import json
import re
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote_to_bytes

NUL_MESSAGE: Final = "contains a NUL character (U+0000), which the API does not accept in text"
NOT_UTF8_MESSAGE: Final = "is not valid UTF-8 text"
LONE_SURROGATE_MESSAGE: Final = (
    "contains a lone UTF-16 surrogate escape (e.g. \\ud83d without its low half), "
    "which is not a character: send the character itself or a complete surrogate pair"
)
NUL_TYPE: Final = "nul_character"
UNICODE_TYPE: Final = "invalid_unicode"
REPEATED_TYPE: Final = "repeated_field"
JSON_NOT_UTF8_TYPE: Final = "json_not_utf8"
JSON_MUST_BE_UTF8: Final = "JSON bodies must be UTF-8 (RFC 8259, section 8.1)"
UTF8_CHARSETS: Final = frozenset({"utf-8", "ascii"})
"""Python's names of the charsets a JSON body may declare (ASCII text is UTF-8)."""
# Byte-order marks, longest first (UTF-32LE's starts with UTF-16LE's).
_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian, with a byte-order mark)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian, with a byte-order mark)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian, with a byte-order mark)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian, with a byte-order mark)"),
)
REPEATED_MESSAGE: Final = "is sent twice: send it once (a parser would keep only one of its values)"

_NAME_DISPLAY_LIMIT: Final = 64
# One JSON escape: \uXXXX, or a backslash and the character it escapes. Matching left to right
# consumes "\\" pairs whole, so an escaped backslash followed by "u0000" is not taken for NUL.
_JSON_ESCAPE: Final = re.compile(rb"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class TextProblem:
    """Why some text of a request is refused, and where it is.

    Attributes:
        loc: Where the text is, FastAPI style: ``("query", "designation")``,
            ``("body", 0, "designation")``, ``("path",)``.
        msg: What is wrong, in words, without the offending value.
        type: A stable machine-readable kind (``nul_character`` or ``invalid_unicode``).
    """

    loc: tuple[str | int, ...]
    msg: str
    type: str

    def as_error(self) -> dict[str, Any]:
        """The problem as one entry of a 422 ``detail`` list (``loc``, ``msg``, ``type``)."""
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}


def display_name(raw: bytes | str) -> str:
    """A field name safe to show in an error: printable, valid Unicode, at most 64 characters."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(char if char.isprintable() else "?" for char in text)
    return text[:_NAME_DISPLAY_LIMIT]


def text_problem(
    value: str, loc: tuple[str | int, ...], subject: str = "The value"
) -> TextProblem | None:
    """Check decoded text: refuse NUL and lone surrogates.

    Args:
        value: Text already decoded (e.g. a JSON string, a parsed field).
        loc: Where it comes from, for the error.
        subject: How the error message names the text.

    Returns:
        The problem, or ``None`` when the text is acceptable.
    """
    if "\x00" in value:
        return TextProblem(loc, f"{subject} {NUL_MESSAGE}.", NUL_TYPE)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return TextProblem(loc, f"{subject} {LONE_SURROGATE_MESSAGE}.", UNICODE_TYPE)
    return None


def bytes_problem(
    raw: bytes, loc: tuple[str | int, ...], subject: str = "The value"
) -> TextProblem | None:
    """Check text that arrives as bytes: it must be UTF-8 (see :func:`text_problem`)."""
    try:
        text = raw.decode("utf-8")  # strict: refuses encoded surrogates too
    except UnicodeDecodeError:
        return TextProblem(loc, f"{subject} {NOT_UTF8_MESSAGE}.", UNICODE_TYPE)
    return text_problem(text, loc, subject)


def urlencoded_problem(raw: bytes, where: str) -> TextProblem | None:
    """Check a query string or an ``application/x-www-form-urlencoded`` body.

    Every name and value is percent-decoded (``+`` is a space) and must be UTF-8 without NUL,
    and no name may come twice (the API takes one value per name, and would keep the last).

    Args:
        raw: The encoded pairs, ``name=value&...``.
        where: ``"query"`` or ``"body"``, the first element of the error's ``loc``.

    Returns:
        The first problem found, or ``None``.
    """
    names: set[bytes] = set()
    for pair in raw.split(b"&"):
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" "))
        problem = bytes_problem(name, (where,), "A parameter name") or repeated_problem(
            name, names, (where, display_name(name))
        )
        if problem is not None:
            return problem
        value = unquote_to_bytes(raw_value.replace(b"+", b" "))
        problem = bytes_problem(value, (where, display_name(name)))
        if problem is not None:
            return problem
    return None


def repeated_problem(
    name: bytes, seen: set[bytes], loc: tuple[str | int, ...]
) -> TextProblem | None:
    """Refuse a field ``name`` already in ``seen`` (a query, form or multipart field sent twice).

    Adds ``name`` to ``seen`` otherwise.
    """
    if name in seen:
        return TextProblem(loc, f"The field {REPEATED_MESSAGE}.", REPEATED_TYPE)
    seen.add(name)
    return None


class _RepeatedKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKeyError(key)
            seen.add(key)
    return document


def repeated_key_problem(body: bytes) -> TextProblem | None:
    """Refuse a JSON text with a key twice in one object (Python's parser keeps the last value).

    Args:
        body: The JSON text.

    Returns:
        The problem, at ``("body",)`` (the message names the key), or ``None``: no key is
        repeated, or the text is not JSON Python reads (FastAPI's parser answers that).
    """
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except _RepeatedKeyError as repeated:
        key = display_name(repeated.key)
        return TextProblem(("body",), f"The key '{key}' {REPEATED_MESSAGE}.", REPEATED_TYPE)
    except (ValueError, RecursionError):
        return None
    return None


def path_problem(raw_path: bytes) -> TextProblem | None:
    """Check the percent-encoded path of the request target (path parameters come from it)."""
    return bytes_problem(unquote_to_bytes(raw_path), ("path",), "The path")


class Utf8Stream:
    """Checks that a stream of byte chunks is UTF-8 without NUL, chunk by chunk.

    A character split across two chunks is handled (an incremental decoder keeps its bytes).
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        self.problem: str | None = None
        """``None`` while the stream is acceptable, else ``NUL_TYPE`` or ``UNICODE_TYPE``."""

    def feed(self, chunk: bytes, *, final: bool = False) -> bool:
        """Check one more chunk; return whether everything so far is acceptable."""
        if self.problem is not None:
            return False
        if b"\x00" in chunk:
            self.problem = NUL_TYPE
            return False
        if chunk.isascii() and not final:
            return True
        try:
            self._decoder.decode(chunk, final)
        except UnicodeDecodeError:
            self.problem = UNICODE_TYPE
            return False
        return True


def is_utf8_charset(charset: bytes) -> bool:
    """Whether a ``charset`` parameter names UTF-8 (any spelling Python knows, or ASCII)."""
    try:
        return codecs.lookup(charset.decode("ascii")).name in UTF8_CHARSETS
    except (LookupError, UnicodeDecodeError):
        return False


def wide_unicode_encoding(body: bytes) -> str | None:
    """Which UTF-16 or UTF-32 encoding a JSON text is in, if its first bytes say so.

    A byte-order mark says it; without one, the NUL bytes around the first character do (a
    JSON text starts with an ASCII character: RFC 4627, section 3).

    Returns:
        The encoding in words (``UTF-16 (little-endian, without a byte-order mark)``), or
        ``None`` for anything else (UTF-8 among others).
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    nul = [byte == 0 for byte in body[:4]]
    patterns = (
        ([True, True, True, False], "UTF-32 (big-endian"),
        ([False, True, True, True], "UTF-32 (little-endian"),
        ([True, False], "UTF-16 (big-endian"),
        ([False, True], "UTF-16 (little-endian"),
    )
    for pattern, name in patterns:
        if nul[: len(pattern)] == pattern:
            return f"{name}, without a byte-order mark)"
    return None


def wide_unicode_problem(body: bytes) -> TextProblem | None:
    """Refuse a JSON text encoded in UTF-16 or UTF-32 (with or without a byte-order mark)."""
    encoding = wide_unicode_encoding(body)
    if encoding is None:
        return None
    return TextProblem(
        ("body",),
        f"The JSON body is {encoding} text: {JSON_MUST_BE_UTF8}. Send it encoded in UTF-8.",
        JSON_NOT_UTF8_TYPE,
    )


def _surrogate_problem(body: bytes) -> str | None:
    r"""Find ``\u0000`` and lone surrogate escapes in a JSON text (its raw bytes)."""
    pending_high_end = -1  # end of a high surrogate escape waiting for its low half
    for match in _JSON_ESCAPE.finditer(body):
        digits = match.group(1)
        code = int(digits, 16) if digits is not None else None
        if pending_high_end >= 0:
            if match.start() != pending_high_end or code is None or not 0xDC00 <= code <= 0xDFFF:
                return UNICODE_TYPE
            pending_high_end = -1
        elif code == 0:
            return NUL_TYPE
        elif code is not None and 0xD800 <= code <= 0xDBFF:
            pending_high_end = match.end()
        elif code is not None and 0xDC00 <= code <= 0xDFFF:
            return UNICODE_TYPE
    return UNICODE_TYPE if pending_high_end >= 0 else None


def json_escape_problem(body: bytes) -> str | None:
    """Whether a JSON text escapes NUL or a lone surrogate: ``NUL_TYPE``, ``UNICODE_TYPE``."""
    if b"\\u" not in body:
        return None
    return _surrogate_problem(body)


def _first_bad_string(value: Any, loc: tuple[str | int, ...]) -> TextProblem | None:
    if isinstance(value, str):
        return text_problem(value, loc)
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_bad_string(item, (*loc, index))
            if found is not None:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            found = text_problem(key, loc, "A key")
            if found is not None:
                return found
            found = _first_bad_string(item, (*loc, display_name(key)))
            if found is not None:
                return found
    return None


def locate_json_problem(body: bytes, kind: str) -> TextProblem:
    """Say where the refused text of a JSON body is (called only once a problem is known).

    Args:
        body: The JSON text.
        kind: What was found: ``NUL_TYPE`` or ``UNICODE_TYPE``.

    Returns:
        The problem at the first offending string (``("body", 0, "designation")``), or at
        ``("body",)`` when the document cannot be parsed.
    """
    try:
        found = _first_bad_string(json.loads(body), ("body",))
    except ValueError:  # not JSON, or bytes that are not UTF-8 at all
        found = None
    if found is not None:
        return found
    if kind == NUL_TYPE:
        return TextProblem(("body",), f"The JSON body {NUL_MESSAGE}.", NUL_TYPE)
    return TextProblem(
        ("body",),
        f"The JSON body {NOT_UTF8_MESSAGE} or {LONE_SURROGATE_MESSAGE}.",
        UNICODE_TYPE,
    )
