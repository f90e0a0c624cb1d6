"""A random development secret, made at the first start instead of the ``changethis`` placeholder.

In development, a ``SECRET_KEY`` left at its placeholder (``changethis`` or empty) is replaced by
a random key kept in ``$STATE_DIR/secret_key`` (created once, readable by its owner only), so
that every process of the platform (API workers, ``--reload`` restarts) signs and checks tokens
with the same key, and PyJWT never warns about a short HMAC key. Outside development the settings
refuse the placeholder instead (see :mod:`app.core.config`).
"""

import contextlib
import os
import secrets
from pathlib import Path
from typing import Final

SECRET_KEY_FILE: Final = "secret_key"  # noqa: S105 - a file name, not a secret
"""File under ``STATE_DIR`` holding the development key."""
KEY_BYTES: Final = 32
"""Random bytes of a generated key: HS256 wants at least 32 (RFC 7518, section 3.2)."""


def development_secret_key(state_dir: Path) -> str:
    """Return the development key of a state folder, creating it on first use.

    Two processes starting together get the same key: the file is created exclusively, and the
    loser of the race reads the winner's key.

    Args:
        state_dir: The runtime state folder (``STATE_DIR``); created when missing.

    Returns:
        The key (URL-safe text, 43 characters for 32 random bytes).

    Raises:
        OSError: The folder or the file cannot be written or read.
    """
    path = state_dir / SECRET_KEY_FILE
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}")
        temporary.write_text(secrets.token_urlsafe(KEY_BYTES) + "\n", encoding="utf-8")
        temporary.chmod(0o600)
        try:
            # A hard link fails when the file exists: the first process wins, atomically.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()
