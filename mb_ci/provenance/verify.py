"""DSSE signatures checked offline against the policy's public keys (``cryptography``, lazily).

The signed bytes are DSSE's pre-authentication encoding, PAE(payloadType, payload)
(https://github.com/secure-systems-lab/dsse/blob/master/protocol.md); cosign signs it with
ECDSA P-256/SHA-256 (DER), and Ed25519 and RSA (PKCS#1 v1.5 or PSS, SHA-256) keys are accepted.
A signature over any other bytes verifies against no key, so it is never ``signed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mb_ci.errors import UsageError
from mb_ci.provenance.parse import Envelope

EXTRA_HINT = "install mb-ci's signing extra, the cryptography package: pip install cryptography"


@dataclass(frozen=True)
class Key:
    name: str  # the file it came from, as the policy names it
    public: Any  # a cryptography public key


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def load_keys(pems: Sequence[tuple[str, bytes]]) -> tuple[Key, ...]:
    """Parse PEM public keys; a missing extra or a bad key is one usage-error line."""
    if not pems:
        return ()
    try:
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        raise UsageError("provenance_keys needs the cryptography package", EXTRA_HINT) from None
    keys = []
    for name, data in pems:
        try:
            keys.append(Key(name, load_pem_public_key(data)))
        except (ValueError, TypeError) as e:
            raise UsageError(
                f"provenance_keys: {name}: not a PEM public key ({type(e).__name__})",
                "give the .pub file cosign generate-key-pair wrote, or any PEM public key",
            ) from None
    return tuple(keys)


def signer(envelope: Envelope, keys: Sequence[Key]) -> str | None:
    """The name of the first key that verifies one of the envelope's signatures."""
    if not keys or not envelope.signatures:
        return None
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    message = pae(envelope.payload_type, envelope.payload)
    for _keyid, sig in envelope.signatures:
        for key in keys:
            pub = key.public
            try:
                if isinstance(pub, ec.EllipticCurvePublicKey):
                    pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))
                elif isinstance(pub, ed25519.Ed25519PublicKey):
                    pub.verify(sig, message)
                elif isinstance(pub, rsa.RSAPublicKey):
                    try:
                        pub.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
                    except InvalidSignature:
                        pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)
                        pub.verify(sig, message, pss, hashes.SHA256())
                else:
                    continue
                return key.name
            except (InvalidSignature, ValueError):
                continue
    return None
