"""The bearer tokens the portal issues for signed-in people, and the JWKS the services verify
them with.

The key is the portal's own (a PEM private key, Ed25519 or P-256, from the settings); its key
id is the RFC 7638 thumbprint of the public key, so a new key gets a new id and the services
fetch the JWKS again when they meet it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import timedelta
from typing import Any

import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.algorithms import ECAlgorithm, OKPAlgorithm


class TokenIssuer:
    def __init__(self, private_key_pem: str, issuer: str, audience: str, ttl: timedelta) -> None:
        try:
            key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        except (ValueError, TypeError) as error:
            raise ValueError(
                f"the portal's signing key is not a PEM private key: {error}"
            ) from None
        public_key: Any
        if isinstance(key, ed25519.Ed25519PrivateKey):
            self.algorithm = "EdDSA"
            public_key = key.public_key()
            public_jwk = json.loads(OKPAlgorithm.to_jwk(public_key))
        elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
            self.algorithm = "ES256"
            public_key = key.public_key()
            public_jwk = json.loads(ECAlgorithm.to_jwk(public_key))
        else:
            raise ValueError("the portal's signing key must be an Ed25519 or a P-256 key")
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self.kid = thumbprint(public_jwk)
        self.public_jwk = {**public_jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.public_jwk]}

    def issue(self, sub: str, roles: list[str], name: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": sub,
            "roles": roles,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + int(self.ttl.total_seconds()),
        }
        if name:
            claims["name"] = name
        # the claims serialised with orjson and signed by PyJWS: `jwt.encode` would do the same
        # with the standard library's encoder, at twice the cost
        return jwt.api_jws.encode(
            orjson.dumps(claims), self._key, algorithm=self.algorithm, headers={"kid": self.kid}
        )


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, in order, without spaces."""
    required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y")}[public_jwk["kty"]]
    canonical = json.dumps({k: public_jwk[k] for k in required}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def generate_private_key_pem() -> str:
    """A new Ed25519 private key, PEM (what `passhub dev up` writes under var/)."""
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
