"""Verification codes: long, random and forgiving to type."""

from __future__ import annotations

from passhub_recognition.domain.codes import code_hash, display, normalise
from passhub_recognition.handlers import new_verification_code


def test_codes_are_long_random_and_forgiving_to_type() -> None:
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    code = next(iter(codes))
    assert len(code) == 19 and code.count("-") == 3
    plain = normalise(code)
    assert plain is not None and len(plain) == 16
    typed = code.lower().replace("-", " ")
    assert normalise(typed) == plain and code_hash(typed) == code_hash(code)
    assert display(plain) == code


def test_malformed_codes_normalise_to_nothing() -> None:
    assert normalise("ABC") is None
    assert normalise("ABCD-EFGH-JKMN-PQR!") is None
    assert normalise("O0O0-IIII-LLLL-0000") == "0000111111110000"
