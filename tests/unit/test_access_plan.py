"""The access plan (issue #15): who may do what, from the provider directory and the topic
table; and the Strimzi resources rendered from it stay in step with the code."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hub.core.access import Grant, Operation, Principals, access_plan, changes
from hub.core.providers import load_providers
from hub.core.topics import Topics
from hub.entrypoints.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = load_providers()
TOPICS = Topics.of(PROVIDERS)
PLAN = access_plan(PROVIDERS, TOPICS, Principals(), hub_group="referral-hub")


def granted(user: str, operation: Operation) -> set[str]:
    return {g.name for g in PLAN if g.user == user and g.operation is operation}


def test_a_provider_reads_its_referrals_and_writes_its_feedback_only() -> None:
    assert granted("provider-dudley", Operation.READ) == {"referrals.dudley.v1", "provider-dudley."}
    assert granted("provider-dudley", Operation.WRITE) == {"provider.dudley.feedback.v1"}


def test_a_source_writes_its_input_only_and_reads_nothing() -> None:
    for source in ("custody", "court", "probation"):
        assert granted(source, Operation.WRITE) == {f"{source}.events.v1"}
        assert granted(source, Operation.READ) == set()


def test_the_hub_reads_inputs_and_writes_outputs_and_the_console_dead_letters() -> None:
    assert granted("hub", Operation.READ) == {*TOPICS.inputs, "referral-hub."}
    assert granted("hub", Operation.WRITE) == set(TOPICS.outputs(PROVIDERS))
    assert granted("console", Operation.READ) == {
        *(Topics.dead_letter(t) for t in TOPICS.inputs),
        "console.",
    }


def test_apply_removes_only_what_the_plan_s_principals_hold_beyond_it() -> None:
    first = PLAN[0]
    stale = Grant("User:provider-gone", first.resource, first.pattern, first.name, first.operation)
    operator = Grant("User:alice", first.resource, first.pattern, first.name, first.operation)
    todo = changes(PLAN[1:], (*PLAN, stale, operator), Principals())
    assert todo.create == () and set(todo.delete) == {PLAN[0], stale}


def test_the_strimzi_resources_match_the_plan() -> None:
    result = CliRunner().invoke(
        app, ["access", "strimzi", "--check", "--out", str(ROOT / "deploy/k8s/strimzi/access.yaml")]
    )
    assert result.exit_code == 0, result.output
