"""Every example of the seed document, as written, with only the import path changed.

The document is ../shared/seed/configuration-versioning.md; people switching to us
change ``dataknobs_bots.config`` to ``config_versions`` and nothing else.
"""

from __future__ import annotations

import asyncio
import json

import pytest


def test_quick_start(capsys):
    from config_versions import ConfigVersionManager

    # Create manager
    manager = ConfigVersionManager()

    # Create initial version
    manager.create(
        config={"name": "MyBot", "llm": {"model": "gpt-4"}},
        reason="Initial configuration",
    )

    # Update creates new version
    manager.update(
        config={"name": "MyBot", "llm": {"model": "gpt-4o"}},
        reason="Upgrade to GPT-4o",
    )

    # Rollback to previous version
    manager.rollback(to_version=1, reason="Reverting upgrade")

    # Get history
    for version in manager.get_history():
        print(f"v{version.version}: {version.reason}")

    assert capsys.readouterr().out.splitlines() == [
        "v3: Reverting upgrade",
        "v2: Upgrade to GPT-4o",
        "v1: Initial configuration",
    ]


@pytest.fixture
def manager():
    """The manager the document's later sections continue with."""
    from config_versions import ConfigVersionManager

    manager = ConfigVersionManager()

    manager.create(
        config={
            "name": "SupportBot",
            "llm": {
                "provider": "openai",
                "model": "gpt-4",
            },
            "memory": {
                "type": "buffer",
                "max_messages": 10,
            },
        },
        reason="Initial bot configuration",
        created_by="configbot",
        metadata={"source": "wizard"},
    )
    return manager


def test_config_version_fields(manager, capsys):
    # Versions are created by the manager, but you can inspect them:
    version = manager.get_version(1)

    print(version.version)  # 1
    print(version.config)  # {"name": "MyBot", ...}
    print(version.timestamp)  # Unix timestamp
    print(version.reason)  # "Initial configuration"
    print(version.previous_version)  # None (for v1)
    print(version.created_by)  # "configbot"
    print(version.metadata)  # {"source": "wizard"}

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1"
    assert lines[1].startswith("{'name': 'SupportBot'")
    assert float(lines[2]) == version.timestamp
    assert lines[3:] == ["Initial bot configuration", "None", "configbot", "{'source': 'wizard'}"]


def test_create_only_once():
    from config_versions import ConfigVersionManager

    manager = ConfigVersionManager()
    manager.create(config={"name": "SupportBot"}, reason="Initial bot configuration")

    # Can only call create() once
    with pytest.raises(ValueError, match="already exists"):
        manager.create(config={"name": "Other"})


def _switch_to_claude(manager):
    # Update creates a new version
    v2 = manager.update(
        config={
            "name": "SupportBot",
            "llm": {
                "provider": "anthropic",  # Changed
                "model": "claude-3-sonnet",  # Changed
            },
            "memory": {
                "type": "buffer",
                "max_messages": 10,
            },
        },
        reason="Switch to Claude",
        created_by="admin",
    )

    assert v2.version == 2
    assert v2.previous_version == 1
    return v2


def test_updating_configuration(manager):
    _switch_to_claude(manager)


def test_optimistic_locking(manager, capsys):
    from config_versions import VersionConflictError

    _switch_to_claude(manager)
    manager.update(config={"name": "SupportBot", "llm": {}}, reason="someone else")
    new_config = {"name": "SupportBot", "llm": {"model": "mine"}}

    # Specify expected version
    try:
        manager.update(
            config=new_config,
            reason="My update",
            expected_version=2,  # Expect current to be v2
        )
    except VersionConflictError as e:
        print(f"Conflict: expected v{e.expected_version}, got v{e.actual_version}")
        # Another update happened, reload and retry

    assert capsys.readouterr().out == "Conflict: expected v2, got v3\n"
    assert manager.current_version == 3


def test_rollback(manager):
    _switch_to_claude(manager)
    manager.update(config={"name": "SupportBot", "experimental": True}, reason="v3")

    # Current is v3, rollback to v1
    v4 = manager.rollback(
        to_version=1,
        reason="Reverting to stable configuration",
        created_by="admin",
    )

    assert v4.version == 4
    assert v4.config == manager.get_version(1).config
    assert v4.metadata["rollback_from"] == 3
    assert v4.metadata["rollback_to"] == 1


def test_querying_versions(manager):
    _switch_to_claude(manager)
    for n in range(3, 9):
        manager.update(config={"n": n}, reason=f"v{n}")

    # Get specific version
    v2 = manager.get_version(2)

    # Get current version number
    current_version = manager.current_version

    # Get current config
    current_config = manager.current_config

    # Get history (newest first)
    history = manager.get_history()

    # Limit results
    recent = manager.get_history(limit=5)

    # Versions since a specific version
    new_versions = manager.get_history(since_version=2)

    # Number of versions
    count = len(manager)

    assert v2.reason == "Switch to Claude"
    assert current_version == 8
    assert current_config == {"n": 8}
    assert [v.version for v in history] == [8, 7, 6, 5, 4, 3, 2, 1]
    assert [v.version for v in recent] == [8, 7, 6, 5, 4]
    assert [v.version for v in new_versions] == [8, 7, 6, 5, 4, 3]
    assert count == 8


def test_comparing_versions(manager, capsys):
    _switch_to_claude(manager)

    # Get diff between versions
    diff = manager.diff(from_version=1, to_version=2)

    print(diff["added"])  # Keys added in v2
    print(diff["removed"])  # Keys removed in v2
    print(diff["changed"])  # Keys with changed values

    assert capsys.readouterr().out.splitlines()[:2] == ["{}", "{}"]
    # The document's example output, key for key.
    assert {k: diff[k] for k in ("from_version", "to_version", "added", "removed", "changed")} == {
        "from_version": 1,
        "to_version": 2,
        "added": {},
        "removed": {},
        "changed": {
            "llm": {
                "from": {"provider": "openai", "model": "gpt-4"},
                "to": {"provider": "anthropic", "model": "claude-3-sonnet"},
            }
        },
    }


def test_serialization(manager, tmp_path, monkeypatch):
    from config_versions import ConfigVersionManager

    monkeypatch.chdir(tmp_path)
    _switch_to_claude(manager)

    # Serialize to dict
    state = manager.to_dict()

    # Save to file, database, etc.
    import json

    with open("versions.json", "w") as f:
        json.dump(state, f)

    # Restore from dict
    restored_manager = ConfigVersionManager.from_dict(state)

    with open("versions.json") as f:
        assert json.load(f) == state
    assert restored_manager.to_dict() == state
    assert restored_manager.current_version == 2
    assert restored_manager.get_version(1).created_by == "configbot"


def test_integration_with_configbot():
    from config_versions import ConfigVersionManager

    # In ConfigBot save workflow
    class SaveConfigTool:
        def __init__(self, version_manager: ConfigVersionManager):
            self.version_manager = version_manager

        async def execute(self, config: dict, reason: str = "User save"):
            if self.version_manager.current_version == 0:
                version = self.version_manager.create(
                    config=config,
                    reason=reason,
                    created_by="configbot",
                )
            else:
                version = self.version_manager.update(
                    config=config,
                    reason=reason,
                    created_by="configbot",
                )

            return {
                "version": version.version,
                "saved_at": version.timestamp,
            }

    tool = SaveConfigTool(ConfigVersionManager())
    first = asyncio.run(tool.execute({"name": "Bot"}))
    second = asyncio.run(tool.execute({"name": "Bot 2"}, reason="rename"))
    assert first["version"] == 1
    assert second["version"] == 2
    assert second["saved_at"] >= first["saved_at"]
    assert tool.version_manager.get_version(2).created_by == "configbot"


def test_audit_trail(manager, capsys):
    _switch_to_claude(manager)

    # Track all configuration changes
    for version in manager.get_history():
        print(f"v{version.version} at {version.timestamp}")
        print(f"  By: {version.created_by}")
        print(f"  Reason: {version.reason}")
        if version.previous_version:
            diff = manager.diff(version.previous_version, version.version)
            if diff["changed"]:
                print(f"  Changed: {list(diff['changed'].keys())}")

    out = capsys.readouterr().out
    assert "  By: admin\n  Reason: Switch to Claude\n  Changed: ['llm']\n" in out
    assert "  By: configbot\n  Reason: Initial bot configuration\n" in out


@pytest.mark.parametrize("succeeds", [True, False])
def test_safe_experimentation(manager, succeeds):
    class Result:
        success = succeeds

    async def test_config(config):
        return Result()

    experimental_config = {"name": "SupportBot", "llm": {"model": "experimental"}}

    async def scenario():
        # Save current state
        stable_version = manager.current_version

        # Try experimental config
        try:
            manager.update(experimental_config, reason="Experiment")
            # Test the new config
            result = await test_config(manager.current_config)
            if not result.success:
                raise ValueError("Experiment failed")
        except Exception:
            # Rollback to stable
            manager.rollback(to_version=stable_version, reason="Experiment failed")

    asyncio.run(scenario())
    if succeeds:
        assert manager.current_config == experimental_config
    else:
        assert manager.current_version == 3
        assert manager.current_config == manager.get_version(1).config
        assert manager.get_version(3).reason == "Experiment failed"


def test_version_comparison_ui(manager):
    _switch_to_claude(manager)

    # For a diff view in UI
    def get_version_comparison(manager, v1, v2):
        diff = manager.diff(v1, v2)

        return {
            "from": {
                "version": v1,
                "config": manager.get_version(v1).config,
            },
            "to": {
                "version": v2,
                "config": manager.get_version(v2).config,
            },
            "changes": diff,
        }

    comparison = get_version_comparison(manager, 1, 2)
    assert comparison["from"]["config"]["llm"]["provider"] == "openai"
    assert comparison["to"]["config"]["llm"]["provider"] == "anthropic"
    assert list(comparison["changes"]["changed"]) == ["llm"]
    json.dumps(comparison)  # what a UI would send is plain JSON


def test_error_handling(manager, capsys):
    from config_versions import VersionConflictError

    config = {"name": "SupportBot", "llm": {"model": "x"}}
    current = 0  # stale on purpose

    # Handle version conflicts
    try:
        manager.update(config, expected_version=current)
    except VersionConflictError:
        # Reload current state and retry or notify user
        pass

    # Handle missing versions
    version = manager.get_version(999)
    if version is None:
        print("Version not found")

    # Handle rollback to non-existent version
    try:
        manager.rollback(to_version=999)
    except ValueError as e:
        print(f"Rollback failed: {e}")

    assert capsys.readouterr().out == (
        "Version not found\nRollback failed: Version 999 not found\n"
    )
    assert manager.current_version == 1
