"""One byte form of a sheet's data, so a signature's hash means "exactly this
content" whatever order the keys were stored in."""
from __future__ import annotations

import hashlib
import json


def canonical_json(data) -> bytes:
    """Sorted keys, no whitespace, UTF-8 text as is. Refuses values JSON cannot
    hold (NaN, dates, Decimals): what is hashed must be what is stored."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def content_hash(data) -> str:
    """SHA-256 hex of canonical_json(data)."""
    return hashlib.sha256(canonical_json(data)).hexdigest()
