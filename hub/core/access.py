"""Who may do what on the broker: the ACL plan, from the provider directory and the topic table.
Pure (no I/O); `hub.adapters.kafka.acls` applies it, `hub access plan` prints it.

One SCRAM principal per partner organisation, plus the hub and the console:
- a provider reads only its own referral topic (with its own consumer-group prefix) and writes
  only its own feedback topic, so the broker, not a payload field, proves who sent feedback;
- a source (custody, court, probation) writes only its own input topic;
- the hub reads the inputs and writes the outputs and the dead letters;
- the console reads the dead letters and writes replays (to the inputs they came from) and the
  referrals an operator routes out of triage.
Nobody else gets anything: the broker runs with `allow.everyone.if.no.acl.found=false`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hub.core.providers import Provider, ProviderDirectory
from hub.core.topics import SOURCES, Topics


class Resource(StrEnum):
    TOPIC = "topic"
    GROUP = "group"


class Pattern(StrEnum):
    LITERAL = "literal"
    PREFIXED = "prefixed"


class Operation(StrEnum):
    READ = "read"
    WRITE = "write"
    CREATE = "create"
    DESCRIBE = "describe"


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL: `principal` may `operation` on the resource (from any host)."""

    principal: str
    resource: Resource
    pattern: Pattern
    name: str
    operation: Operation

    @property
    def user(self) -> str:
        return self.principal.removeprefix("User:")

    def __str__(self) -> str:
        return (
            f"{self.principal:<28} {self.operation.value:<8} {self.resource.value} "
            f"{self.pattern.value} {self.name}"
        )


HUB, CONSOLE = "hub", "console"
_PROVIDER = "provider-"


@dataclass(frozen=True)
class Principals:
    """The users' names; `namespace` is prepended to each (several deployments, or tests, on
    one cluster keep their users apart)."""

    namespace: str = ""

    @property
    def hub(self) -> str:
        return f"{self.namespace}{HUB}"

    @property
    def console(self) -> str:
        return f"{self.namespace}{CONSOLE}"

    def source(self, source: str) -> str:
        return f"{self.namespace}{source}"

    def provider(self, provider: Provider) -> str:
        return f"{self.namespace}{_PROVIDER}{provider.id}"

    def all(self, providers: ProviderDirectory) -> tuple[str, ...]:
        """Every user the plan names (each needs a SCRAM credential: `hub access users`)."""
        return (
            self.hub,
            self.console,
            *(self.source(s) for s in SOURCES),
            *(self.provider(p) for p in providers.providers),
        )

    def manages(self, user: str) -> bool:
        """Whether `user` is one of this plan's kind (a provider since removed from the
        directory too), so `hub access apply` may remove ACLs it holds beyond the plan."""
        name = user.removeprefix(self.namespace) if user.startswith(self.namespace) else None
        return name is not None and (name in (HUB, CONSOLE, *SOURCES) or name.startswith(_PROVIDER))


def provider_group_prefix(principals: Principals, provider: Provider) -> str:
    """The consumer groups a provider may use: `<its user>.` and anything after."""
    return f"{principals.provider(provider)}."


def _topic(user: str, name: str, *operations: Operation) -> list[Grant]:
    return [Grant(f"User:{user}", Resource.TOPIC, Pattern.LITERAL, name, op) for op in operations]


def _group(user: str, prefix: str) -> list[Grant]:
    return [
        Grant(f"User:{user}", Resource.GROUP, Pattern.PREFIXED, prefix, op)
        for op in (Operation.READ, Operation.DESCRIBE)
    ]


def access_plan(
    providers: ProviderDirectory, topics: Topics, principals: Principals, *, hub_group: str
) -> tuple[Grant, ...]:
    """Every ALLOW the broker should hold for this deployment, sorted; nothing else."""
    read, write = (Operation.READ, Operation.DESCRIBE), (Operation.WRITE, Operation.DESCRIBE)
    hub, console = principals.hub, principals.console
    grants: list[Grant] = []
    for provider in providers.providers:
        user = principals.provider(provider)
        grants += _topic(user, topics.provider(provider.topic), *read)
        grants += _group(user, provider_group_prefix(principals, provider))
        grants += _topic(user, topics.feedback(provider), *write)
    for source, topic in zip(SOURCES, topics.source_inputs, strict=True):
        grants += _topic(principals.source(source), topic, *write)
    for topic in topics.inputs:
        grants += _topic(hub, topic, Operation.CREATE, *read)
    grants += _group(hub, f"{hub_group}.")
    for topic in topics.outputs(providers):
        grants += _topic(hub, topic, Operation.CREATE, *write)
    for topic in topics.inputs:
        grants += _topic(console, topics.dead_letter(topic), *read)
        grants += _topic(console, topic, *write)
    for provider in providers.providers:
        grants += _topic(console, topics.provider(provider.topic), *write)
    grants += _group(console, f"{console}.")
    # the console's overview and /readyz read the hub's groups (lag, members): DESCRIBE only,
    # so it can neither join them nor move their offsets
    grants.append(
        Grant(
            f"User:{console}", Resource.GROUP, Pattern.PREFIXED, f"{hub_group}.", Operation.DESCRIBE
        )
    )
    return tuple(sorted(set(grants)))


@dataclass(frozen=True)
class Changes:
    """What `hub access apply` does to make the broker hold exactly the plan."""

    create: tuple[Grant, ...]
    delete: tuple[Grant, ...]


def changes(
    planned: tuple[Grant, ...], existing: tuple[Grant, ...], principals: Principals
) -> Changes:
    """Create what is planned and missing; delete what a managed principal holds beyond the
    plan (ACLs of principals the plan does not name, e.g. an operator's, are left alone)."""
    have, want = set(existing), set(planned)
    return Changes(
        tuple(sorted(want - have)),
        tuple(sorted(g for g in have - want if principals.manages(g.user))),
    )
