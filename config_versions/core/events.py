"""What the manager tells its listeners after each write.

A listener is any callable taking a :class:`VersionWritten`, a :class:`LabelMoved` or a
:class:`ProposalRecorded`.
The Django layer registers one that sends its signals once the transaction commits; the core itself
never knows about transactions or signals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from config_versions.core.labels import LabelMove
from config_versions.core.proposals import Proposal, ProposalEvent
from config_versions.core.version import ConfigVersion


@dataclass(frozen=True)
class VersionWritten:
    """A new version was appended. ``rollback_to`` names the version it restored."""

    version: ConfigVersion
    rollback_to: int | None = None


@dataclass(frozen=True)
class LabelMoved:
    """A label was moved (or set for the first time): ``move`` is the recorded move."""

    move: LabelMove


@dataclass(frozen=True)
class ProposalRecorded:
    """A step of a proposal was recorded (submitted, revised, reviewed, withdrawn or
    applied): ``event`` is the recorded step, ``proposal`` the proposal after it."""

    event: ProposalEvent
    proposal: Proposal


Event = VersionWritten | LabelMoved | ProposalRecorded
Listener = Callable[[Event], None]
