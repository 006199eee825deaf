"""Verification codes: 16 characters of Crockford's base32 (80 bits), shown in groups of four
(`7KQ2-M9XD-A4TR-0HVZ`). Made by the entrypoint from a crypto RNG; here only their shape.

Codes are looked up by their SHA-256, never by prefix or pattern, so a lookup takes the same
path whether or not the code exists, and nothing can be enumerated.
"""

from __future__ import annotations

import hashlib

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise(code: str) -> str | None:
    """The canonical form of a typed code (case, spaces, dashes and look-alikes forgiven), or
    None if it cannot be one."""
    text = "".join(code.split()).replace("-", "").upper().translate(_READ_AS)
    if len(text) != LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text


def display(code: str) -> str:
    plain = normalise(code) or code
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def code_hash(code: str) -> str:
    """SHA-256 of the canonical code (of the raw text when it is not one)."""
    return hashlib.sha256((normalise(code) or code).encode()).hexdigest()
