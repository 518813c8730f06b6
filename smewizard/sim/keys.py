"""DKIM key pairs for the simulated server (2048-bit RSA, PKCS#8 PEM like OpenSSL 3)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes = b""
    public_b64: str = ""  # SubjectPublicKeyInfo, base64: the DKIM record's p=

    def __repr__(self) -> str:  # never show key material
        return f"KeyPair(public_b64={self.public_b64[:16]}…)"

    def dkim_record(self, *tags: str) -> str:
        return "; ".join(["v=DKIM1", "k=rsa", *tags, f"p={self.public_b64}"])


@lru_cache(maxsize=64)
def keypair(label: str) -> KeyPair:
    """A fresh key pair per label, cached for the process so repeated test builds stay fast
    (these are throw-away keys of a simulated server)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private_pem=private, public_b64=base64.b64encode(public).decode("ascii"))


def write_private_key(path: str, pem: bytes, uid: int, gid: int, *, chown: bool) -> None:
    """Create `path` with mode 0400 from the first byte, owner set before any key byte lands."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o400)
    try:
        if chown:
            os.fchown(fd, uid, gid)
        os.fchmod(fd, 0o400)
        with os.fdopen(fd, "wb", closefd=False) as fh:
            fh.write(pem)
    finally:
        os.close(fd)
