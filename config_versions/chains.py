"""What the checkers of every recorded chain share: their messages and signature rules.

A config records three chains (its versions, its label moves, its proposal events),
each hash-linked and, with ``CONFIG_VERSIONS["SIGNING_KEY"]``, signed row by row. They
are checked alike: the same words for a row that no longer matches its chain hash, and
the same rules for signatures (a signature on row N vouches for 1..N through the chain;
an unsigned row after a signed one is a break).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config_versions.core.signing import signature_matches

CHAIN_MISMATCH = "its recorded fields (or the chain hash before it) do not match its chain hash"
BAD_SIGNATURE = (
    "its signature does not match its chain hash: re-chained, or signed with another key"
)
UNSIGNED_CAUSE = "written without the signing key, or outside the app"


@dataclass
class Signatures:
    """How a history's versions (or moves, or events) are signed. Without a key
    (``checked`` false) only ``signed`` is counted: rows that carry a signature,
    unchecked."""

    checked: bool
    signed: int = 0  # a valid signature
    covered: int = 0  # none, but a signed row comes later: vouched for by it
    unsigned: int = 0  # none, and no row of the history is signed
    missing: int = 0  # none, after a signed row: breaks
    bad: int = 0  # a signature that does not match: breaks

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "signed": self.signed,
            "covered": self.covered,
            "unsigned": self.unsigned,
            "missing": self.missing,
            "bad": self.bad,
        }

    def __str__(self) -> str:
        if not self.checked:
            return f"{self.signed} carry a signature (not checked)" if self.signed else ""
        if not (self.signed or self.bad):
            return "not signed (written before a signing key was set)"
        parts = [f"{self.signed} signed"]
        if self.covered:
            parts.append(f"{self.covered} older covered by the first signed one")
        if self.missing:
            parts.append(f"{self.missing} unsigned after a signed one")
        if self.bad:
            parts.append(f"{self.bad} bad signature(s)")
        return ", ".join(parts)


class SignedChain:
    """Counting a chain's signatures, and the breaks they make; ``_add`` records one."""

    noun = "version"

    def __init__(self, signing_key: str | None) -> None:
        self.key = signing_key or None
        self.signatures = Signatures(checked=self.key is not None)
        self._signed_at: int | None = None  # the last row carrying a signature
        self._pending = 0  # unsigned rows before the first signature
        # Unsigned rows after a signed one: first, last, and the first one's tag.
        self._run: tuple[int, int, Any] | None = None

    def _add(self, number: int, problem: str, tag: Any = None) -> None:
        raise NotImplementedError

    def _signature(self, number: int, link: str, signature: str | None, tag: Any = None) -> None:
        if self.key is None:
            if signature:
                self.signatures.signed += 1
            return
        if signature:
            self._close_run()
            if signature_matches(self.key, link, signature):
                self.signatures.signed += 1
            else:
                self.signatures.bad += 1
                self._add(number, BAD_SIGNATURE, tag)
            self._signed_at = number
        elif self._signed_at is None:
            self._pending += 1
        else:
            self.signatures.missing += 1
            start, first_tag = (self._run[0], self._run[2]) if self._run else (number, tag)
            self._run = (start, number, first_tag)

    def _close_run(self) -> None:
        if self._run is None:
            return
        first, last, tag = self._run
        signed, noun = self._signed_at, self.noun
        if first == last:
            problem = f"no signature, though {noun} {signed} before it is signed"
        else:
            problem = (
                f"no signature on {noun}s {first} to {last}, though {noun} {signed} "
                "before them is signed"
            )
        self._add(first, f"{problem}: {UNSIGNED_CAUSE}", tag)
        self._run = None

    def _settle_signatures(self) -> None:
        self._close_run()
        if self._signed_at is not None:
            self.signatures.covered = self._pending
        else:
            self.signatures.unsigned = self._pending
