"""The issuer's Ed25519 key, its public forms (JWKS, did:web document) and VC-JWT signing.

The key comes from `PASSHUB_RECOGNITION_SIGNING_KEY_PATH` (a PEM file) when set; otherwise one is
made on the service's first start and kept in its database (`rec_signing_keys`, one row), so
every replica signs with the same key and credentials stay verifiable across restarts.

A concern of its own beside the service's layers: cryptography and the key's storage, which
the routes and the command line use and nothing in the rules needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import tables

ALGORITHM = "EdDSA"


def did_web(base_url: str) -> str:
    """The did:web of a base URL: `https://pass.example.ac.uk:8443/recognition` ->
    `did:web:pass.example.ac.uk%3A8443:recognition`."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise ValueError(f"public base URL {base_url!r} has no host")
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    path = [quote(p, safe="") for p in parts.path.split("/") if p]
    return ":".join(["did", "web", host, *path])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_pem(pem: str | bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode() if isinstance(pem, str) else pem, None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key must be an Ed25519 private key")
    return key


class InvalidCredential(Exception):
    """Not a credential this issuer signed (bad signature, wrong issuer, malformed)."""


@dataclass(frozen=True)
class IssuerKey:
    private_key: Ed25519PrivateKey
    did: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = OKPAlgorithm.to_jwk(self.public_key, as_dict=True)
        return {"kty": jwk["kty"], "crv": jwk["crv"], "x": jwk["x"]}

    @property
    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint."""
        canonical = json.dumps(self.public_jwk, sort_keys=True, separators=(",", ":"))
        return _b64url(hashlib.sha256(canonical.encode()).digest())

    @property
    def kid(self) -> str:
        return f"{self.did}#{self.thumbprint}"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self.public_jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def did_document(self) -> dict[str, Any]:
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/suites/jws-2020/v1",
            ],
            "id": self.did,
            "verificationMethod": [
                {
                    "id": self.kid,
                    "type": "JsonWebKey2020",
                    "controller": self.did,
                    "publicKeyJwk": self.public_jwk,
                }
            ],
            "assertionMethod": [self.kid],
            "authentication": [self.kid],
        }

    def sign(self, credential: dict[str, Any]) -> str:
        """Open Badges 3.0 VC-JWT: the credential is the payload, with `iss`, `jti`, `nbf`
        (and `sub` when the subject has an id) as the JWT claims. Ed25519 signatures are
        deterministic: signing the same credential twice gives the same token."""
        valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
        claims: dict[str, Any] = {
            **credential,
            "iss": self.did,
            "jti": credential["id"],
            "nbf": int(valid_from.timestamp()),
        }
        subject_id = credential.get("credentialSubject", {}).get("id")
        if subject_id:
            claims["sub"] = subject_id
        return jwt.encode(
            claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid, "typ": "JWT"}
        )

    def verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.public_key,
                algorithms=[ALGORITHM],
                issuer=self.did,
                leeway=60,  # another verifier's clock may run a little behind
                options={"require": ["iss", "jti", "nbf"], "verify_aud": False},
            )
        except jwt.InvalidTokenError as exc:
            raise InvalidCredential(str(exc)) from None
        if "OpenBadgeCredential" not in (claims.get("type") or []):
            raise InvalidCredential("not an OpenBadgeCredential")
        return claims


def key_from_file(path: str) -> Ed25519PrivateKey:
    return load_pem(Path(path).read_bytes())


async def key_from_database(conn: AsyncConnection) -> Ed25519PrivateKey:
    """The stored key, made and stored first if there is none (safe with several replicas
    starting at once: the first insert wins, every replica reads the winner)."""
    t = tables.signing_keys
    await conn.execute(
        pg_insert(t)
        .values(
            id=1, private_key_pem=private_pem(Ed25519PrivateKey.generate()), created_at=func.now()
        )
        .on_conflict_do_nothing(index_elements=[t.c.id])
    )
    pem = (await conn.execute(select(t.c.private_key_pem).where(t.c.id == 1))).scalar_one()
    return load_pem(pem)
