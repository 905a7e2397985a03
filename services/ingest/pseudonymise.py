"""UPN -> child_key by keyed HMAC: the LA and school parts of a UPN are public, so a plain hash
could be reversed by enumeration; a secret key cannot."""

from __future__ import annotations

import hashlib
import hmac


class Pseudonymiser:
    """Turns a UPN into a stable pseudonymous child_key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = key

    def __call__(self, upn: str) -> str:
        """child_key: first 128 bits of HMAC-SHA256(key, UPN), hex."""
        return hmac.new(self._key, upn.encode("ascii"), hashlib.sha256).hexdigest()[:32]
