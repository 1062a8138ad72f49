"""Server-generated resource ids: 20 characters of [a-z0-9], a 3-letter prefix per kind."""

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits

IMAGE = "fd8"
OPERATION = "opr"
DISK = "dsk"
SNAPSHOT = "snp"


def new_id(prefix: str) -> str:
    assert len(prefix) == 3
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(17))
