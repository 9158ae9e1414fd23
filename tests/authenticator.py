"""A software WebAuthn authenticator (ES256, attestation "none") for the API tests: it answers
Signet's options as a browser and a platform authenticator would, and can be told to get any
part of its answer wrong."""

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """A passkey the authenticator holds: its id, key, the user handle and its counter."""

    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: str
    sign_count: int = 0

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


@dataclass
class Authenticator:
    """Answers creation and request options for `origin`; `counts` whether it keeps a signature
    counter (platform authenticators that sync often do not)."""

    origin: str
    counts: bool = True
    credentials: list[Credential] = field(default_factory=list)

    @staticmethod
    def new_key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        type: str = "webauthn.create",
        flags: int = UP | UV,
        challenge: str | None = None,
        reuse: Credential | None = None,
    ) -> dict[str, Any]:
        """A RegistrationResponseJSON for creation `options` with a new credential (kept), or
        with the one to `reuse`."""
        rp = rp_id or options["rp"]["id"]
        credential = reuse or Credential(
            id=os.urandom(32),
            key=self.new_key(),
            rp_id=options["rp"]["id"],
            user_handle=options["user"]["id"],
        )
        if reuse is None:
            self.credentials.append(credential)
        attested = (
            bytes(16)  # AAGUID
            + struct.pack(">H", len(credential.id))
            + credential.id
            + credential.cose_public_key()
        )
        auth_data = _auth_data(rp, flags | AT, credential.sign_count) + attested
        client_data = self._client_data(type, challenge or options["challenge"], origin)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": b64url(credential.id),
            "rawId": b64url(credential.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def get(
        self,
        options: dict[str, Any],
        *,
        credential: Credential | None = None,
        origin: str | None = None,
        rp_id: str | None = None,
        type: str = "webauthn.get",
        flags: int = UP | UV,
        challenge: str | None = None,
        user_handle: str | None = None,
        sign_count: int | None = None,
        bad_signature: bool = False,
    ) -> dict[str, Any]:
        """An AuthenticationResponseJSON for request `options` with `credential` (the latest
        one made by default), its counter advanced unless `sign_count` says otherwise."""
        chosen = credential or self.credentials[-1]
        if sign_count is None:
            chosen.sign_count += 1 if self.counts else 0
            sign_count = chosen.sign_count
        auth_data = _auth_data(rp_id or options["rpId"], flags, sign_count)
        client_data = self._client_data(type, challenge or options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = chosen.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        if bad_signature:
            signature = chosen.key.sign(signed + b"!", ec.ECDSA(hashes.SHA256()))
        return {
            "id": b64url(chosen.id),
            "rawId": b64url(chosen.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": user_handle or chosen.user_handle,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        }

    def _client_data(self, type_: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": type_, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps({**data, "crossOrigin": False}).encode()


def _auth_data(rp_id: str, flags: int, sign_count: int) -> bytes:
    return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)
