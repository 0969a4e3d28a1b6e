"""Proposals in the database (issue 14), on SQLite, PostgreSQL and MariaDB: concurrent
applies and reviews with busy CPUs, one transaction for the version, the label move and
the proposal's step, the record's immutability, the summary rows, signals after commit,
and a COMMIT whose answer is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from config_versions import signals
from config_versions.core.errors import (
    MergeConflictError,
    ProposalStateError,
    ReviewRequiredError,
    StoreConflict,
)
from config_versions.core.proposals import APPLIED, APPROVED
from config_versions.exceptions import ImmutableVersionError
from config_versions.models import (
    BotConfig,
    BotConfigLabelMove,
    BotConfigProposal,
    BotConfigProposalEvent,
    BotConfigVersion,
)
from tests.test_contention import busy_cpus  # noqa: F401 - a fixture
from tests.test_lost_commit import answer_lost, commits, never_reached
from tests.threads import in_thread

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = {"staging": {}, "production": {"protected": True}}
BASE = {"model": "gpt-4", "prompt": "Be kind.", "limits": {"tokens": 500}, "n": 0}


@pytest.fixture(autouse=True)
def _review(settings):
    settings.CONFIG_VERSIONS = {"LABELS": LABELS, "REVIEW": {"labels": ["production"]}}


@pytest.fixture
def config(bot) -> BotConfig:
    bot.version_manager.create(BASE, created_by="ann")
    return bot


def _approved(bot: BotConfig, change: dict[str, Any], label: str | None = None) -> int:
    manager = BotConfig.objects.get(pk=bot.pk).version_manager
    found = manager.propose({**BASE, **change}, 1, "change", created_by="bob", label=label)
    manager.review_proposal(found.id, "approve", "cat")
    return found.id


def test_a_proposal_is_kept_exactly_and_summarised(config):
    manager = config.version_manager
    odd = {"big": 1e16, "neg_zero": -0.0, "text": "é\u2028🤖", "order": {"b": 1, "a": 2}}
    manager.propose({**BASE, **odd}, 1, "Odd values ✓", created_by="bob", label="production")
    fresh = BotConfig.objects.get(pk=config.pk).version_manager.get_proposal(1)
    assert fresh.config == {**BASE, **odd}
    assert isinstance(fresh.config["big"], float)
    assert str(fresh.config["neg_zero"]) == "-0.0"
    assert list(fresh.config["order"]) == ["b", "a"]
    row = BotConfigProposal.objects.get(bot_config=config)
    assert (row.number, row.status, row.author, row.label, row.revision, row.approvals) == (
        1,
        "open",
        "bob",
        "production",
        1,
        0,
    )
    manager.review_proposal(1, "approve", "cat")
    row.refresh_from_db()
    assert (row.status, row.approvals) == ("approved", 1)
    manager.apply_proposal(1, applied_by="dan")
    row.refresh_from_db()
    assert (row.status, row.applied_version) == ("applied", 2)
    assert row.updated_at >= row.created_at


def test_the_record_cannot_be_changed_or_deleted(config):
    config.version_manager.propose({**BASE, "n": 1}, 1, created_by="bob")
    event = BotConfigProposalEvent.objects.get()
    with pytest.raises(ImmutableVersionError):
        event.save()
    with pytest.raises(ImmutableVersionError):
        BotConfigProposalEvent.objects.update(kind="applied")
    with pytest.raises(ImmutableVersionError):
        BotConfigProposalEvent.objects.all().delete()
    table = BotConfigProposalEvent._meta.db_table
    for sql in (f"UPDATE {table} SET actor = 'mallory'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert BotConfigProposalEvent.objects.get().actor == "bob"


def test_apply_is_one_transaction_with_its_label_move(config):
    """A label move that fails inside the apply leaves no version and no applied step."""
    number = _approved(config, {"model": "claude"}, label="production")
    table = BotConfigLabelMove._meta.db_table
    # SQLite reports a trigger's ABORT as an IntegrityError, which the store takes for a
    # move numbered by someone else (StoreConflict); the others as a DatabaseError.
    with _refusing_inserts(table), pytest.raises((DatabaseError, StoreConflict)):
        config.version_manager.apply_proposal(number, applied_by="dan")
    assert BotConfigVersion.objects.filter(bot_config=config).count() == 1
    assert not BotConfigLabelMove.objects.filter(bot_config=config).exists()
    assert [e.kind for e in BotConfigProposalEvent.objects.filter(bot_config=config)] == [
        "submitted",
        "reviewed",
    ]
    assert BotConfigProposal.objects.get(bot_config=config).status == "approved"
    config.refresh_from_db()
    assert config.current_version == 1
    # And once the database takes moves again, the apply goes through.
    applied = BotConfig.objects.get(pk=config.pk).version_manager.apply_proposal(number)
    assert (applied.version.version, applied.move.to_version) == (2, 2)


def _refusing_inserts(table: str) -> Any:
    """A real trigger refusing INSERTs into ``table`` for the block."""
    from contextlib import contextmanager

    vendor = connection.vendor
    name = "cv_test_refuse_insert"

    @contextmanager
    def installed() -> Iterator[None]:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute(
                    f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"
                )
                cursor.execute(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            elif vendor == "sqlite":
                cursor.execute(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            else:
                cursor.execute(
                    f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
                    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'"
                )
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                if vendor == "postgresql":
                    cursor.execute(f"DROP TRIGGER {name} ON {table}")
                    cursor.execute(f"DROP FUNCTION {name}()")
                else:
                    cursor.execute(f"DROP TRIGGER {name}")

    return installed()


@pytest.mark.usefixtures("busy_cpus")
def test_two_concurrent_applies_of_edits_to_different_places_both_land(config):
    first = _approved(config, {"model": "claude"})
    second = _approved(config, {"prompt": "Be brief."})
    results = _race(config, [first, second])
    assert all(not isinstance(r, Exception) for r in results), results
    versions = sorted(r.version.version for r in results)
    assert versions == [2, 3]
    merged = [r for r in results if r.merged_onto is not None]
    assert len(merged) == 1
    assert merged[0].merged_onto == 2
    latest = BotConfig.objects.get(pk=config.pk).version_manager.current_config
    assert latest == {**BASE, "model": "claude", "prompt": "Be brief."}


@pytest.mark.usefixtures("busy_cpus")
def test_two_concurrent_applies_of_conflicting_edits_one_writes_the_other_names_the_conflict(
    config,
):
    first = _approved(config, {"model": "claude"}, label="production")
    second = _approved(config, {"model": "gemini"}, label="production")
    results = _race(config, [first, second])
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1, results
    assert len(losses) == 1
    assert isinstance(losses[0], MergeConflictError)
    assert losses[0].conflicts == ["/model"]
    assert BotConfigVersion.objects.filter(bot_config=config).count() == 2
    manager = BotConfig.objects.get(pk=config.pk).version_manager
    assert manager.get_label("production") == 2
    statuses = sorted(p.status for p in manager.proposals())
    assert statuses == [APPLIED, APPROVED]


@pytest.mark.usefixtures("busy_cpus")
@pytest.mark.parametrize("threads", [2, 6])
def test_the_same_proposal_applied_at_once_from_many_threads_is_applied_once(config, threads):
    number = _approved(config, {"model": "claude"}, label="production")
    results = _race(config, [number] * threads)
    wins = [r for r in results if not isinstance(r, Exception)]
    assert len(wins) == 1, results
    assert all(isinstance(r, ProposalStateError) for r in results if r not in wins)
    assert BotConfigVersion.objects.filter(bot_config=config).count() == 2
    assert BotConfigLabelMove.objects.filter(bot_config=config).count() == 1
    kinds = list(
        BotConfigProposalEvent.objects.filter(bot_config=config)
        .order_by("sequence")
        .values_list("kind", flat=True)
    )
    assert kinds == ["submitted", "reviewed", "applied"]


@pytest.mark.usefixtures("busy_cpus")
def test_concurrent_proposals_and_reviews_keep_the_record_numbered_and_chained(config):
    from config_versions.integrity import check_history

    def work(i: int) -> None:
        manager = BotConfig.objects.get(pk=config.pk).version_manager
        found = manager.propose({**BASE, "n": i}, 1, f"n={i}", created_by=f"user{i}")
        manager.review_proposal(found.id, "approve", f"user{i + 1}")

    count = 6 if connection.vendor == "sqlite" else 10
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(in_thread(work), range(count)))
    sequences = list(
        BotConfigProposalEvent.objects.filter(bot_config=config)
        .order_by("sequence")
        .values_list("sequence", flat=True)
    )
    assert sequences == list(range(1, 2 * count + 1))
    numbers = sorted(BotConfigProposal.objects.values_list("number", flat=True))
    assert numbers == list(range(1, count + 1))
    assert set(BotConfigProposal.objects.values_list("status", flat=True)) == {"approved"}
    report = check_history(BotConfig.objects.get(pk=config.pk))
    assert report.ok, [str(b) for b in report.all_breaks]


def _race(bot: BotConfig, numbers: list[int]) -> list[Any]:
    barrier = threading.Barrier(len(numbers))

    def apply(number: int) -> Any:
        manager = BotConfig.objects.get(pk=bot.pk).version_manager
        barrier.wait()
        try:
            return manager.apply_proposal(number, applied_by="dan")
        except (MergeConflictError, ProposalStateError) as exc:
            return exc

    with ThreadPoolExecutor(len(numbers)) as pool:
        return list(pool.map(in_thread(apply), numbers))


def test_a_review_label_is_not_moved_directly(config):
    with pytest.raises(ReviewRequiredError):
        config.version_manager.set_label("production", 1)
    assert not BotConfigLabelMove.objects.exists()


def test_signals_are_sent_after_commit_and_not_for_a_rolled_back_step(config):
    heard: list[tuple[str, Any]] = []

    def receiver(signal_name: str) -> Any:
        def receive(sender: Any, **kwargs: Any) -> None:
            heard.append((signal_name, kwargs["proposal"].status))

        return receive

    receivers = {
        name: receiver(name)
        for name in ("proposal_submitted", "proposal_reviewed", "proposal_applied")
    }
    for name, func in receivers.items():
        getattr(signals, name).connect(func)
    try:
        with transaction.atomic():
            config.version_manager.propose({**BASE, "n": 9}, 1, created_by="bob")
            assert heard == []  # not before the commit
            transaction.set_rollback(True)
        assert heard == []
        number = _approved(config, {"n": 1}, label="production")
        config.version_manager.apply_proposal(number)
    finally:
        for name, func in receivers.items():
            getattr(signals, name).disconnect(func)
    assert heard == [
        ("proposal_submitted", "open"),
        ("proposal_reviewed", "approved"),
        ("proposal_applied", "applied"),
    ]


def test_an_apply_whose_commit_answer_is_lost_is_an_apply(config):
    number = _approved(config, {"model": "claude"}, label="production")
    with commits(answer_lost):
        applied = config.version_manager.apply_proposal(number, applied_by="dan")
    assert applied.version.version == 2
    manager = BotConfig.objects.get(pk=config.pk).version_manager
    assert manager.get_proposal(number).status == APPLIED
    assert manager.get_label("production") == 2


def test_an_apply_that_never_committed_is_an_error_and_left_nothing(config):
    number = _approved(config, {"model": "claude"}, label="production")
    with commits(never_reached), pytest.raises(DatabaseError):
        config.version_manager.apply_proposal(number, applied_by="dan")
    connection.close()
    manager = BotConfig.objects.get(pk=config.pk).version_manager
    assert manager.current_version == 1
    assert manager.get_proposal(number).status == APPROVED


def test_purge_removes_proposals(config):
    from config_versions.purge import purge_history

    _approved(config, {"n": 1})
    purge_history(config, reason="test")
    assert not BotConfigProposalEvent.objects.exists()
    assert not BotConfigProposal.objects.exists()


def test_a_proposal_number_taken_meanwhile_is_refused_by_the_database(config):
    config.version_manager.propose({**BASE, "n": 1}, 1, created_by="bob")
    with pytest.raises(IntegrityError), transaction.atomic():
        BotConfigProposalEvent.objects.create(
            bot_config=config,
            sequence=1,
            proposal=2,
            kind="submitted",
            timestamp=0.0,
            created_at=BotConfigProposalEvent.objects.get().created_at,
            data="{}",
            chain_hash="x",
        )


def test_a_release_applied_after_newer_versions_verifies_and_round_trips(config, tmp_path):
    """A proposal that edits nothing releases its base as it is, writing no version; the
    verifier and the import must take that apply as one a manager writes."""
    from config_versions.integrity import check_history
    from config_versions.managers import restore_history

    manager = config.version_manager
    manager.update({**BASE, "n": 1}, created_by="ann")  # v2
    found = manager.propose({**BASE, "n": 1}, 2, "Release v2", created_by="bob", label="production")
    manager.update({**BASE, "n": 2}, created_by="ann")  # v3, not reviewed
    manager.review_proposal(found.id, "approve", "cat")
    applied = manager.apply_proposal(found.id, applied_by="dan")
    assert (applied.version.version, applied.version.unchanged) == (2, True)
    fresh = BotConfig.objects.get(pk=config.pk)
    report = check_history(fresh)
    assert report.ok, [str(b) for b in report.all_breaks]
    document = fresh.version_manager.to_dict()
    target = BotConfig.objects.create(name="Copy", slug="copy")
    with transaction.atomic():
        copy = restore_history(target, document)
    assert copy.get_label("production") == 2
    assert copy.get_proposal(found.id).applied_version == 2
    # And through the commands, whose import checks every step first.
    exported = tmp_path / "release.json"
    call_command("export_config_history", config.slug, output=str(exported), stderr=StringIO())
    call_command("import_config_history", str(exported), slug="copy-2", stdout=StringIO())
    second = BotConfig.objects.get(slug="copy-2").version_manager
    assert second.get_label("production") == 2
