"""E-mail addresses: one account per address, whatever its case.

Addresses are kept as email-validator normalises them (``email``: the domain in lower case, the
local part as written) and compared through a key
(``email_key``, unique in the database): the address normalised the way pydantic's ``EmailStr``
does it (email-validator: Unicode NFC, domain in lower case and IDNA-checked), then lower-cased.
``Marie.Curie@Example.COM`` and ``marie.curie@example.com`` are the same account, and logging in
with exactly the string used at creation always works.
"""

import unicodedata
from typing import Annotated, Final

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, EmailStr, WithJsonSchema

MAX_LOCAL_PART_OCTETS: Final = 64
"""Longest part before the ``@`` (RFC 5321, section 4.5.3.1.1; RFC 6531 keeps it in octets)."""


def _deliverable_local_part(address: str) -> str:
    local_part = address.rpartition("@")[0]
    size = len(local_part.encode("utf-8"))
    if size > MAX_LOCAL_PART_OCTETS:
        raise ValueError(
            f"value is not a valid email address: the part before the @ is {size} bytes long, "
            f"over the {MAX_LOCAL_PART_OCTETS} an address may have (RFC 5321)"
        )
    return address


Email = Annotated[
    EmailStr,
    AfterValidator(_deliverable_local_part),
    WithJsonSchema({"type": "string", "format": "idn-email"}),
]
"""An e-mail address. Published as ``idn-email``: non-ASCII addresses (``élodie@exemple.fr``)
are accepted, and JSON Schema's ``email`` format would say they are invalid. email-validator
does not limit the part before the ``@``; the 64 bytes of the standards are checked here."""


def email_key(address: str) -> str:
    """The form under which an address is unique and looked up.

    Args:
        address: An address as typed (valid or not: a login form may send anything).

    Returns:
        The normalised address in lower case; text that is not a valid address is only
        NFC-normalised, stripped and lower-cased (it then matches no account).
    """
    try:
        normalized = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        normalized = unicodedata.normalize("NFC", address.strip())
    return normalized.lower()
