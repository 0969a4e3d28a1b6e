"""Keyed signatures of chain heads: what a database alone cannot forge.

The hash chain shows that a history was edited only to someone who kept an earlier
chain hash: whoever can write to the database can edit a version and recompute every
hash after it (re-chaining). An HMAC of each chain hash, made with a key the database
never sees, cannot be recomputed that way. A valid signature on version N vouches for
versions 1..N, since its chain hash covers them all.
"""

from __future__ import annotations

import hashlib
import hmac

# Versioned, so that a future scheme cannot be confused with this one.
_DOMAIN = b"config_versions.chain/1:"


def sign_chain_hash(key: str | bytes, chain_hash: str) -> str:
    """HMAC-SHA256 (hex) of ``chain_hash`` under ``key``."""
    secret = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(secret, _DOMAIN + chain_hash.encode("ascii"), hashlib.sha256).hexdigest()


def signature_matches(key: str | bytes, chain_hash: str, signature: str | None) -> bool:
    """Whether ``signature`` is the signature of ``chain_hash`` (constant time)."""
    if not signature:
        return False
    return hmac.compare_digest(sign_chain_hash(key, chain_hash), signature)
