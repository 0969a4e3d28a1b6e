"""The demo's people and bots: who may do what, and each bot's history, step by step.

A history is a first config followed by steps. A step either edits the previous config
(``edits`` maps JSON Pointers to new values; ``REMOVE`` deletes the key) or rolls back to
an earlier version. Writing edits instead of whole configs keeps each change as small
and readable as the reason given for it.

Beside its versions a bot has releases and proposals. ``staging`` is moved directly
(Editors and Leads). ``production`` is protected and under review
(``CONFIG_VERSIONS["REVIEW"]``): it moves only when a Lead applies a proposal that
someone other than its author approved. Most proposals release a version that staging
has tried, as it is; a step ``through`` review is a change proposed for production,
whose version is written when it is applied (the production rollback of the support
bot, and a refund policy merged onto that rollback). The newest proposals are left as a
team leaves them: waiting for a review, approved and not applied yet, rejected with a
comment, withdrawn, and one whose edits now conflict with newer work.

Every moment is ``(version, hours)``: that many hours after the version was written
(before it, when negative).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from config_versions.core.diff import split_pointer
from config_versions.core.proposals import APPROVE, REJECT

REMOVE = object()


@dataclass(frozen=True)
class Role:
    description: str
    # Codenames of config_versions permissions the group grants.
    permissions: tuple[str, ...]


PROMOTE = "promote_botconfig"
PROMOTE_PROTECTED = "promote_protected_botconfig"
PROPOSE = "propose_botconfig"
REVIEW = "review_botconfig"
STAGING = "staging"
PRODUCTION = "production"

GROUPS: dict[str, Role] = {
    "Editors": Role(
        "edit configs, promote to staging, propose changes for production; no new bots, "
        "no rollback",
        ("view_botconfig", "change_botconfig", "view_botconfigversion", PROMOTE),
    ),
    "Leads": Role(
        "edit, create and roll back configs, promote to staging, review proposals and "
        "apply them to production",
        (
            "view_botconfig",
            "add_botconfig",
            "change_botconfig",
            "rollback_botconfig",
            "view_botconfigversion",
            PROMOTE,
            # production is a protected label: moving it (by applying a proposal)
            # needs this one too.
            PROMOTE_PROTECTED,
            REVIEW,
        ),
    ),
    "Proposers": Role(
        "propose changes for review; their edits never become versions by themselves",
        ("view_botconfig", "view_botconfigversion", PROPOSE),
    ),
    "Reviewers": Role(
        "approve or reject proposals; no edits, no apply",
        ("view_botconfig", "view_botconfigversion", REVIEW),
    ),
    # Service accounts of running bots: read their config through the API.
    "Bots": Role("read configs through the API", ("view_botconfig",)),
}


def label_movers(protected: bool) -> list[str]:
    """The groups that may move a label: a protected one needs both permissions."""
    needed = {PROMOTE, PROMOTE_PROTECTED} if protected else {PROMOTE}
    return [group for group, role in GROUPS.items() if needed <= set(role.permissions)]


def reviewers() -> list[str]:
    """The groups that may approve or reject proposals."""
    return [group for group, role in GROUPS.items() if REVIEW in role.permissions]


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    group: str
    is_staff: bool = True


PEOPLE = (
    Person("priya", "Priya", "Raman", "Leads"),
    Person("jonas", "Jonas", "Weber", "Leads"),
    Person("marcus", "Marcus", "Okafor", "Editors"),
    Person("sofia", "Sofia", "Lindqvist", "Editors"),
    Person("lena", "Lena", "Fischer", "Proposers"),
    Person("amara", "Amara", "Nwosu", "Reviewers"),
    Person("bot-runtime", "Bot", "Runtime", "Bots", is_staff=False),
)
# DEMO ONLY, published on purpose: the staff accounts above log in with STAFF_PASSWORD
# and the superuser with ADMIN_PASSWORD. Never load this data into a reachable site.
STAFF_PASSWORD = "demo"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"
BOT_USERNAME = "bot-runtime"

# (version, hours after it was written; negative: before it)
When = tuple[int, float]


@dataclass(frozen=True)
class Review:
    reviewer: str
    decision: str  # APPROVE or REJECT
    comment: str
    at: When


@dataclass(frozen=True)
class Through:
    """How a step's version came to be through review: its author proposed the step
    (made from version ``base``, for ``PRODUCTION``) at ``submitted``, ``reviews``
    followed, and ``applied_by`` applied it at the step's moment, which wrote the
    version and moved production to it. A base older than the newest version then is
    merged onto it (three-way)."""

    base: int
    submitted: When
    reviews: tuple[Review, ...]
    applied_by: str


@dataclass(frozen=True)
class Step:
    author: str
    reason: str
    edits: dict[str, Any] = field(default_factory=dict)
    rollback_to: int | None = None
    through: Through | None = None

    @property
    def writer(self) -> str:
        """Who wrote the version: the author, or whoever applied the proposal."""
        return self.author if self.through is None else self.through.applied_by


@dataclass(frozen=True)
class Release:
    """``label`` moved directly to ``version``, ``hours`` after it was written."""

    label: str
    version: int
    author: str
    reason: str
    hours: float

    @property
    def at(self) -> When:
        return (self.version, self.hours)


@dataclass(frozen=True)
class Applied:
    by: str
    at: When


@dataclass(frozen=True)
class Withdrawn:
    by: str
    at: When
    reason: str


@dataclass(frozen=True)
class Proposed:
    """A proposal that writes no version of the demo's history: ``author`` proposes
    version ``base``'s config with ``edits`` (none: a release of ``base`` as it is) at
    ``at``, for ``label``; then its reviews, and it is applied, withdrawn, or left."""

    author: str
    reason: str
    base: int
    at: When
    edits: dict[str, Any] = field(default_factory=dict)
    reviews: tuple[Review, ...] = ()
    label: str | None = PRODUCTION
    applied: Applied | None = None
    withdrawn: Withdrawn | None = None

    @property
    def is_release(self) -> bool:
        return not self.edits


def release(
    version: int,
    author: str,
    reason: str,
    reviewer: str,
    comment: str,
    applied_by: str,
    hours: float,
) -> Proposed:
    """Version ``version`` to production as it is, through review: proposed three hours
    and approved one hour before ``applied_by`` applies it, ``hours`` after it was written."""
    return Proposed(
        author,
        reason,
        base=version,
        at=(version, hours - 3),
        reviews=(Review(reviewer, APPROVE, comment, (version, hours - 1)),),
        applied=Applied(applied_by, (version, hours)),
    )


@dataclass(frozen=True)
class DemoBot:
    slug: str
    name: str
    description: str
    author: str
    config: dict[str, Any]
    steps: tuple[Step, ...]
    schema: dict[str, Any] | None = None
    # Direct label moves (staging), oldest first.
    releases: tuple[Release, ...] = ()
    # Proposals besides those of the steps, in the order they are submitted.
    proposals: tuple[Proposed, ...] = ()


SUPPORT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "llm", "prompts", "memory", "tools"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "llm": {
            "type": "object",
            "required": ["provider", "model", "temperature"],
            "properties": {
                "provider": {"enum": ["openai", "anthropic", "azure-openai"]},
                "model": {"type": "string", "minLength": 1},
                "temperature": {"type": "number", "minimum": 0, "maximum": 1},
                "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096},
            },
        },
        "prompts": {
            "type": "object",
            "required": ["system"],
            "properties": {"system": {"type": "string", "minLength": 20}},
        },
        "memory": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["buffer", "summary"]},
                "max_messages": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        },
        "tools": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "languages": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z]{2}$"},
            "uniqueItems": True,
        },
    },
}

SUPPORT_BOT = DemoBot(
    slug="support-bot",
    name="Customer support bot",
    description="Answers order, shipping and returns questions in the web shop's chat.",
    author="priya",
    schema=SUPPORT_SCHEMA,
    config={
        "name": "SupportBot",
        "llm": {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "temperature": 0.3,
            "max_tokens": 800,
            "api_key_env": "OPENAI_API_KEY",
        },
        "prompts": {
            "system": (
                "You are the web shop's customer support assistant. Answer questions about "
                "orders, shipping and returns. Be concise and friendly. If you are not sure, "
                "say so and offer to hand the conversation to a human agent."
            ),
            "greeting": "Hi! I'm the shop's support assistant. How can I help today?",
        },
        "memory": {"type": "buffer", "max_messages": 10},
        "tools": ["order_lookup", "shipping_status"],
        "handoff": {"enabled": True, "queue": "tier1", "triggers": ["refund over 100 EUR"]},
        "languages": ["en"],
    },
    steps=(
        Step(
            "marcus", "Add German and French for the EU launch", {"/languages": ["en", "de", "fr"]}
        ),
        Step(
            "sofia",
            "Returns are the top question in the chat logs: add the return-label tool",
            {"/tools": ["order_lookup", "shipping_status", "create_return_label"]},
        ),
        Step(
            "marcus",
            "Upgrade to gpt-4o: mini got the tone wrong in complaints",
            {"/llm/model": "gpt-4o", "/llm/temperature": 0.2},
        ),
        Step(
            "sofia",
            "Summarise long chats instead of cutting them off",
            {"/memory": {"type": "summary", "max_messages": 40}},
        ),
        # Production served v5 for a day: version 4's config goes back to production
        # through review, as version 6.
        Step(
            "priya",
            "Summaries dropped order numbers and customers had to repeat them",
            rollback_to=4,
            through=Through(
                base=5,
                submitted=(6, -3),
                reviews=(
                    Review(
                        "jonas",
                        APPROVE,
                        "Agreed: roll back now, and fix the summaries on staging",
                        (6, -2),
                    ),
                ),
                applied_by="priya",
            ),
        ),
        # Proposed while production still had the summaries (from version 5), approved
        # after the rollback: applying it merged its edit onto version 6.
        Step(
            "marcus",
            "New refund policy: hand refunds over 50 EUR and legal threats to a human",
            {"/handoff/triggers": ["refund over 50 EUR", "legal threat"]},
            through=Through(
                base=5,
                submitted=(5, 24),
                reviews=(
                    Review(
                        "jonas",
                        APPROVE,
                        "Only the handoff triggers change: it merges cleanly onto the rollback",
                        (6, 3),
                    ),
                ),
                applied_by="priya",
            ),
        ),
        Step(
            "sofia",
            "The chat widget shows its own greeting now",
            {"/prompts/greeting": REMOVE},
        ),
        Step(
            "priya",
            "Shorter answers, no emoji (brand guidelines v3)",
            {
                "/prompts/system": (
                    "You are the web shop's customer support assistant. Answer questions "
                    "about orders, shipping and returns in at most three sentences, without "
                    "emoji. If you are not sure, say so and offer to hand the conversation to "
                    "a human agent."
                ),
                "/llm/max_tokens": 400,
            },
        ),
    ),
    releases=(
        Release(STAGING, 1, "priya", "First version, for the team to try in the chat", 3),
        Release(STAGING, 2, "marcus", "Try German and French before the EU launch", 2),
        Release(STAGING, 3, "sofia", "Return labels, for the support team to test", 1),
        Release(STAGING, 4, "marcus", "gpt-4o on staging: compare complaint answers", 2),
        Release(STAGING, 5, "sofia", "Summarised memory on staging", 1),
        Release(STAGING, 6, "priya", "Staging follows the rollback of the summaries", 1),
        Release(STAGING, 7, "marcus", "Staging follows production: the new refund rules", 2),
        Release(STAGING, 8, "sofia", "Try the widget's own greeting", 1),
        Release(STAGING, 9, "priya", "Brand guidelines v3, for review before release", 3),
    ),
    proposals=(
        release(
            1,
            "priya",
            "Launch in the web shop chat",
            "jonas",
            "Tried it on staging all afternoon: ready",
            "priya",
            26,
        ),
        release(
            2,
            "marcus",
            "EU launch: German and French live",
            "priya",
            "The German and French answers read well",
            "jonas",
            25,
        ),
        release(
            4,
            "sofia",
            "gpt-4o and return labels passed a day on staging",
            "amara",
            "Complaint answers are calmer; return labels worked in ten test chats",
            "priya",
            24,
        ),
        release(
            5,
            "sofia",
            "Summaries looked fine in the staging chats",
            "jonas",
            "Long chats keep their context now",
            "jonas",
            20,
        ),
        # Approved before version 9 rewrote the same prompt: applying it now conflicts.
        Proposed(
            "marcus",
            "Mention the refund policy in the system prompt, and leave room for it",
            base=7,
            at=(7, 20),
            edits={
                "/prompts/system": (
                    "You are the web shop's customer support assistant. Answer questions "
                    "about orders, shipping and returns. Refunds over 50 EUR go to a human "
                    "agent: say so and hand the conversation over. Be concise and friendly."
                ),
                "/llm/max_tokens": 600,
            },
            reviews=(Review("jonas", APPROVE, "Good; apply it after the greeting change", (8, 4)),),
        ),
        Proposed(
            "lena",
            "Answer in Spanish too: the Madrid pilot starts on Monday",
            base=9,
            at=(9, 5),
            edits={"/languages": ["en", "de", "fr", "es"]},
        ),
    ),
)

DOCS_ASSISTANT = DemoBot(
    slug="docs-assistant",
    name="Developer docs assistant",
    description="Answers developer questions from the product documentation (RAG).",
    author="jonas",
    config={
        "name": "DocsAssistant",
        "llm": {
            "provider": "anthropic",
            "model": "claude-3-5-sonnet-20241022",
            "temperature": 0.1,
            "max_tokens": 1500,
            "api_key_env": "ANTHROPIC_API_KEY",
        },
        "prompts": {
            "system": (
                "Answer developer questions using only the retrieved documentation. Cite "
                "the pages you used. If the documentation does not cover the question, "
                "say so instead of guessing."
            ),
        },
        "retrieval": {
            "index": "product-docs-v1",
            "embedding_model": "text-embedding-3-small",
            "top_k": 4,
            "chunk_size": 800,
            "chunk_overlap": 100,
            "min_score": 0.72,
            "reranker": None,
        },
        "memory": {"type": "buffer", "max_messages": 6},
        "citations": {"style": "inline", "max_sources": 3},
    },
    steps=(
        Step(
            "jonas",
            "top_k 4 -> 8: answers missed the second half of multi-page guides",
            {"/retrieval/top_k": 8},
        ),
        Step(
            "sofia",
            "Rerank the 8 hits with a cross-encoder to keep precision",
            {"/retrieval/reranker": {"model": "bge-reranker-base", "top_n": 4}},
        ),
        Step(
            "jonas",
            "Re-indexed the docs in 512-token chunks (product-docs-v2)",
            {
                "/retrieval/index": "product-docs-v2",
                "/retrieval/chunk_size": 512,
                "/retrieval/chunk_overlap": 64,
            },
        ),
        Step(
            "marcus",
            "Too many 'not covered' answers: lower min_score to 0.65",
            {"/retrieval/min_score": 0.65},
        ),
        Step(
            "jonas",
            "Haiku for latency: p95 was 9 s with Sonnet, quality equal on the eval set",
            {"/llm/model": "claude-3-5-haiku-20241022"},
        ),
        Step(
            "priya",
            "Footnote citations, as the docs team asked",
            {"/citations": {"style": "footnotes", "max_sources": 3, "link_base": "/docs/"}},
        ),
        Step(
            "jonas",
            "Hybrid search: BM25 next to embeddings for exact API names",
            {"/retrieval/hybrid": {"keyword_weight": 0.3, "analyzer": "english"}},
        ),
        Step("priya", "Hybrid search doubled p95 latency; back to dense retrieval", rollback_to=7),
    ),
    releases=(
        Release(STAGING, 1, "jonas", "First version, for the docs team to try", 4),
        Release(STAGING, 3, "sofia", "top_k 8 with the reranker, on the eval set", 2),
        Release(STAGING, 4, "jonas", "The new index on staging", 2),
        Release(STAGING, 6, "jonas", "Haiku on staging: check latency and quality", 1),
        Release(STAGING, 7, "priya", "Footnote citations for the docs team to review", 2),
        Release(STAGING, 8, "jonas", "Hybrid search on staging before production", 2),
        Release(STAGING, 9, "priya", "Staging back on dense retrieval, like production", 1),
    ),
    proposals=(
        release(
            1,
            "jonas",
            "Launch on the developer portal",
            "priya",
            "The eval set passes: go",
            "jonas",
            28,
        ),
        release(
            4,
            "jonas",
            "Reranker and the new index beat v1 on the eval set",
            "amara",
            "Eval score up from 0.71 to 0.83",
            "priya",
            24,
        ),
        release(
            6,
            "jonas",
            "Haiku: p95 down to 3 s, same eval score",
            "priya",
            "Same answers, a third of the wait",
            "priya",
            20,
        ),
        release(
            7,
            "priya",
            "The docs team signed off on footnotes",
            "jonas",
            "Footnotes render well in the portal",
            "jonas",
            24,
        ),
        Proposed(
            "jonas",
            "Hybrid search in production: exact API names are found now",
            base=8,
            at=(8, 20),
            withdrawn=Withdrawn(
                "jonas", (9, -2), "p95 doubled on staging: back to dense retrieval instead"
            ),
        ),
        Proposed(
            "marcus",
            "Answer from general knowledge where the docs say nothing",
            base=9,
            at=(9, 2),
            edits={
                "/prompts/system": (
                    "Answer developer questions using the retrieved documentation, and your "
                    "general knowledge where it says nothing. Cite the pages you used."
                )
            },
            reviews=(
                Review(
                    "jonas",
                    REJECT,
                    "No: made-up API names are the top complaint about the assistant. Tell "
                    "the docs team which pages are missing instead.",
                    (9, 5),
                ),
            ),
        ),
        Proposed(
            "priya",
            "Cite at most two sources: readers skip the third",
            base=9,
            at=(9, 4),
            edits={"/citations/max_sources": 2},
            reviews=(
                Review(
                    "amara",
                    APPROVE,
                    "Checked twenty answers: the third source was never needed",
                    (9, 6),
                ),
            ),
        ),
    ),
)

OPS_AGENT = DemoBot(
    slug="ops-agent",
    name="On-call ops agent",
    description="Investigates alerts with tools (logs, metrics, tickets) and proposes fixes.",
    author="priya",
    config={
        "name": "OpsAgent",
        "llm": {
            "provider": "openai",
            "model": "gpt-4o",
            "temperature": 0,
            "max_tokens": 2000,
            "api_key_env": "OPENAI_API_KEY",
        },
        "prompts": {
            "system": (
                "You are an on-call assistant. Investigate alerts with your tools, summarise "
                "what you found and propose next steps. Never run a tool that changes "
                "production without approval."
            ),
        },
        "agent": {"strategy": "react", "max_iterations": 6, "parallel_tool_calls": False},
        "tools": [
            {"name": "search_logs", "source": "loki", "timeout_s": 20},
            {"name": "query_metrics", "source": "prometheus", "timeout_s": 10},
        ],
        "approval": {"required_for": [], "approvers": ["oncall-lead"]},
        "memory": {"type": "summary", "max_tokens": 1200},
    },
    steps=(
        Step(
            "marcus",
            "Let the agent open tickets for what it cannot fix",
            {
                "/tools/2": {"name": "open_ticket", "project": "OPS", "timeout_s": 15},
            },
        ),
        Step(
            "jonas",
            "Six iterations were not enough for multi-service incidents",
            {"/agent/max_iterations": 10},
        ),
        Step(
            "priya",
            "Allow service restarts, always behind a human approval",
            {
                "/tools/3": {"name": "restart_service", "allow": ["checkout", "search"]},
                "/approval/required_for": ["restart_service"],
            },
        ),
        Step(
            "sofia",
            "Query logs and metrics in parallel to cut triage time",
            {"/agent/parallel_tool_calls": True},
        ),
        Step(
            "jonas",
            "Loki queries time out during incidents: 20 s -> 45 s",
            {"/tools/0/timeout_s": 45},
        ),
        Step(
            "marcus",
            "Page the secondary on-call when an incident is not acknowledged in 10 minutes",
            {"/escalation": {"after_minutes": 10, "page": "secondary-oncall"}},
        ),
    ),
    releases=(
        Release(STAGING, 1, "priya", "First version, against the staging cluster", 3),
        Release(STAGING, 3, "jonas", "Tickets and 10 iterations on staging", 2),
        Release(STAGING, 4, "priya", "Restarts behind approval, on staging only", 2),
        Release(STAGING, 5, "sofia", "Parallel tool calls on staging", 1),
        Release(STAGING, 6, "jonas", "Longer Loki timeout on staging", 2),
        Release(STAGING, 7, "marcus", "Escalation to the secondary, on staging first", 2),
    ),
    proposals=(
        release(
            1,
            "priya",
            "On call from tonight",
            "jonas",
            "Read-only tools only: safe to start",
            "priya",
            26,
        ),
        release(
            3,
            "jonas",
            "Opened sensible tickets in two staging incidents",
            "priya",
            "The tickets were ones we would have written",
            "jonas",
            24,
        ),
        release(
            4,
            "priya",
            "Restart approvals worked in the game day",
            "amara",
            "Every restart waited for a human in the game day",
            "jonas",
            24,
        ),
        # Made from version 6; version 7 came after, and the preview merges it cleanly.
        Proposed(
            "marcus",
            "Twelve iterations: cascading failures still ran out at ten",
            base=6,
            at=(6, 20),
            edits={"/agent/max_iterations": 12},
        ),
    ),
)

BOTS = (SUPPORT_BOT, DOCS_ASSISTANT, OPS_AGENT)


def apply_edits(config: dict[str, Any], edits: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with ``edits`` applied; an index one past a list's end appends."""
    result: dict[str, Any] = copy.deepcopy(config)
    for path, value in edits.items():
        *parents, last = split_pointer(path)
        target: Any = result
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        if isinstance(target, list):
            index = int(last)
            if value is REMOVE:
                del target[index]
            elif index == len(target):
                target.append(copy.deepcopy(value))
            else:
                target[index] = copy.deepcopy(value)
        elif value is REMOVE:
            del target[last]
        else:
            target[last] = copy.deepcopy(value)
    return result
