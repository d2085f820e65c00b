"""Payment-link tokens: long and random, given to the customer once, stored only as a hash.

A database dump holds SHA-256 digests, from which no working link can be made. The token
has 256 bits of entropy, so a plain (unsalted) digest is enough and can be looked up by
an index.
"""

from __future__ import annotations

import hashlib
import re
import secrets

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def token_new() -> tuple[str, str]:
    """A new token and the hash to store."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_well_formed(token: str) -> bool:
    return bool(TOKEN_SHAPE.fullmatch(token or ""))
