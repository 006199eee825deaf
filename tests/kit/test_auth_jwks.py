"""Tokens signed with a key from a JWKS served over real HTTP (what the portal publishes), beside
the operators' `passhub token` tokens, which keep working."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm

from passhub_shared.operations.settings import Settings
from passhub_shared.web.auth import key_id, make_token, verify_token

KEY = ed25519.Ed25519PrivateKey.generate()
OTHER = ed25519.Ed25519PrivateKey.generate()


@pytest.fixture
def jwks_url() -> Iterator[str]:
    jwk = {**json.loads(OKPAlgorithm.to_jwk(KEY.public_key())), "kid": "k1", "alg": "EdDSA"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    finally:
        server.shutdown()


def signed(key: ed25519.Ed25519PrivateKey, kid: str, **claims: object) -> str:
    now = datetime.now(UTC)
    body = {"sub": "S1", "roles": ["student"], "iss": "passhub", "aud": "passhub"}
    body |= {"iat": now, "exp": now + timedelta(minutes=5), **claims}
    return jwt.encode(body, key, algorithm="EdDSA", headers={"kid": kid})


def test_a_token_naming_a_jwks_key_is_verified_with_it(jwks_url: str) -> None:
    settings = Settings(jwt_jwks_url=jwks_url)
    principal = verify_token(settings, signed(KEY, "k1", name="Ada"))
    assert (principal.sub, principal.roles, principal.name) == ("S1", {"student"}, "Ada")


def test_a_wrong_key_an_unknown_key_id_and_no_jwks_are_refused(jwks_url: str) -> None:
    settings = Settings(jwt_jwks_url=jwks_url)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(settings, signed(OTHER, "k1"))
    with pytest.raises(jwt.InvalidTokenError, match="no key"):
        verify_token(settings, signed(KEY, "k2"))
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(Settings(), signed(KEY, "k1"))
    with pytest.raises(jwt.InvalidAudienceError):
        verify_token(settings, signed(KEY, "k1", aud="elsewhere"))


def test_operator_tokens_still_verify_with_a_jwks_set(jwks_url: str) -> None:
    settings = Settings(jwt_jwks_url=jwks_url)
    token = make_token(settings, "admin", ["coordinator"])
    assert verify_token(settings, token).roles == {"coordinator"}


def test_an_unreachable_jwks_is_an_invalid_token() -> None:
    settings = Settings(jwt_jwks_url="http://127.0.0.1:9/jwks.json")
    with pytest.raises(jwt.InvalidTokenError, match="no key"):
        verify_token(settings, signed(KEY, "k1"))


def test_the_key_id_is_read_from_the_header_alone_and_a_bad_header_is_refused(
    jwks_url: str,
) -> None:
    settings = Settings(jwt_jwks_url=jwks_url)
    token = signed(KEY, "k1")
    assert key_id(token) == "k1"
    assert key_id(make_token(settings, "admin", ["coordinator"])) is None
    _header, payload, signature = token.split(".")
    for bad in ("!!!!." + payload + "." + signature, "e30x.a.b", "nodots", "W10.a.b"):
        with pytest.raises(jwt.InvalidTokenError):
            verify_token(settings, bad)
    # the key id only chooses the key: a header changed after signing fails the signature
    forged = jwt.utils.base64url_encode(b'{"alg":"EdDSA","kid":"k1","x":1}').decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(settings, f"{forged}.{payload}.{signature}")
