"""E-mail addresses: one account per address, whatever its case.

Addresses are kept as email-validator normalises them (``email``: the domain in lower case, the
local part as written) and compared through a key
(``email_key``, unique in the database): the address normalised the way pydantic's ``EmailStr``
does it (email-validator: Unicode NFC, domain in lower case and IDNA-checked), then lower-cased.
``Marie.Curie@Example.COM`` and ``marie.curie@example.com`` are the same account, and logging in
with exactly the string used at creation always works.
"""

import unicodedata
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from pydantic import EmailStr, WithJsonSchema

Email = Annotated[EmailStr, WithJsonSchema({"type": "string", "format": "idn-email"})]
"""An e-mail address. Published as ``idn-email``: non-ASCII addresses (``élodie@exemple.fr``)
are accepted, and JSON Schema's ``email`` format would say they are invalid."""


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
