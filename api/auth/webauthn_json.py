"""WebAuthn's JSON forms, as the passkey ceremonies read and write them."""

import re
from collections.abc import Mapping
from typing import Any

from webauthn.helpers import base64url_to_bytes
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

from api.store.passkey_tables import PasskeyRow

# Ed25519, ES256, RS256: what authenticators make, most preferred first.
ALGORITHMS = [
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
KNOWN_TRANSPORTS = frozenset(transport.value for transport in AuthenticatorTransport)
# What reading a hostile answer may raise, in py_webauthn or in the JSON and base64 under it
# (RecursionError: JSON nested thousands deep).
UNREADABLE = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, RecursionError)
# A credential id or user handle as WebAuthn's JSON spells them: base64url, unpadded.
BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,1400}")


def response_of(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    response = credential.get("response")
    return response if isinstance(response, Mapping) else {}


def transports_of(credential: Mapping[str, Any]) -> list[str]:
    """The transports the browser reported, those WebAuthn knows, each once."""
    given = response_of(credential).get("transports")
    if not isinstance(given, list):
        return []
    return sorted({value for value in given if isinstance(value, str)} & KNOWN_TRANSPORTS)


def descriptor_of(row: PasskeyRow) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(value) for value in row.transports.split(",") if value]
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(row.credential_id), transports=transports or None
    )
