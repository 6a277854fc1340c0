"""Making the broker hold the access plan (`hub.core.access`): its ACLs, and the principals'
SCRAM-SHA-512 credentials. Run as a principal that may alter ACLs and users (a super user: the
local broker's loopback PLAINTEXT listener, or the cluster operator's admin)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code

from hub.adapters.kafka.access import KafkaAccess, client_options
from hub.adapters.kafka.admin_protocol import (
    AlterUserScramCredentials,
    CreateAcls,
    DeleteAcls,
    DescribeAcls,
)
from hub.core.access import Changes, Grant, Operation, Pattern, Principals, Resource, changes

# Kafka's wire codes (org.apache.kafka.common.acl / resource).
_RESOURCE = {Resource.TOPIC: 2, Resource.GROUP: 3}
_PATTERN = {Pattern.LITERAL: 3, Pattern.PREFIXED: 4}
_OPERATION = {Operation.READ: 3, Operation.WRITE: 4, Operation.CREATE: 5, Operation.DESCRIBE: 8}
_ANY, _ALLOW, _SCRAM_SHA_512 = 1, 3, 2
#: RESOURCE_NOT_FOUND: a credential to delete that is not there.
_RESOURCE_NOT_FOUND = 91
#: SCRAM iterations (Kafka accepts 4096 to 16384 for SCRAM-SHA-512).
ITERATIONS = 8192


def _wire(grant: Grant) -> tuple[Any, ...]:
    return (
        _RESOURCE[grant.resource],
        grant.name,
        _PATTERN[grant.pattern],
        grant.principal,
        "*",
        _OPERATION[grant.operation],
        _ALLOW,
    )


def _grant(resource_type: int, name: str, pattern: int, acl: tuple[Any, ...]) -> Grant | None:
    """A described ACL as a Grant, if it is one of the kinds the plan makes."""
    principal, host, operation, permission = acl
    kinds = (
        {v: k for k, v in _RESOURCE.items()}.get(resource_type),
        {v: k for k, v in _PATTERN.items()}.get(pattern),
        {v: k for k, v in _OPERATION.items()}.get(operation),
    )
    if None in kinds or host != "*" or permission != _ALLOW:
        return None
    resource, pattern_type, op = kinds
    assert resource is not None
    assert pattern_type is not None
    assert op is not None
    return Grant(principal, resource, pattern_type, name, op)


async def _send(admin: AIOKafkaAdminClient, request: Any) -> Any:
    client = admin._client
    return await client.send(client.get_random_node(), request)


async def held_grants(admin: AIOKafkaAdminClient) -> tuple[Grant, ...]:
    """Every ALLOW ACL on the broker that the plan could have made."""
    response = await _send(admin, DescribeAcls(_ANY, None, _ANY, None, None, _ANY, _ANY))
    if response.error_code:
        raise for_code(response.error_code)(response.error_message)
    found = [
        _grant(resource_type, name, pattern, tuple(acl))
        for resource_type, name, pattern, acls in response.resources
        for acl in acls
    ]
    return tuple(sorted(g for g in found if g is not None))


async def apply_plan(
    kafka: KafkaAccess | str, planned: tuple[Grant, ...], principals: Principals
) -> Changes:
    """Create the planned ACLs the broker lacks and delete those the plan's principals hold
    beyond it; return what changed (nothing, the second time)."""
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=15000)
    await admin.start()
    try:
        todo = changes(planned, await held_grants(admin), principals)
        if todo.create:
            response = await _send(admin, CreateAcls([_wire(g) for g in todo.create]))
            for error_code, message in response.creation_responses:
                if error_code:
                    raise for_code(error_code)(message)
        if todo.delete:
            response = await _send(admin, DeleteAcls([_wire(g) for g in todo.delete]))
            for error_code, message, _ in response.filter_responses:
                if error_code:
                    raise for_code(error_code)(message)
        return todo
    finally:
        await admin.close()


def salted_password(password: str, salt: bytes, iterations: int = ITERATIONS) -> bytes:
    """SCRAM's Hi(): PBKDF2 with HMAC-SHA-512 (RFC 5802, RFC 7677)."""
    return hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)


async def upsert_scram_users(kafka: KafkaAccess | str, passwords: Mapping[str, str]) -> None:
    """Create or rotate each user's SCRAM-SHA-512 credential (a fresh salt each time). The
    passwords are hashed here; only the salted form is sent."""
    upsertions = []
    for user, password in passwords.items():
        salt = secrets.token_bytes(32)
        upsertions.append((user, _SCRAM_SHA_512, ITERATIONS, salt, salted_password(password, salt)))
    await _alter_scram(kafka, AlterUserScramCredentials(upsertions))


async def delete_scram_users(kafka: KafkaAccess | str, users: Iterable[str]) -> None:
    """Delete each user's SCRAM-SHA-512 credential (a user that has none is not an error:
    deleting is safe to repeat)."""
    deletions = [(user, _SCRAM_SHA_512) for user in users]
    if deletions:
        await _alter_scram(
            kafka, AlterUserScramCredentials([], deletions), ignore=_RESOURCE_NOT_FOUND
        )


async def _alter_scram(
    kafka: KafkaAccess | str, request: AlterUserScramCredentials, *, ignore: int = 0
) -> None:
    admin = AIOKafkaAdminClient(**client_options(kafka), request_timeout_ms=15000)
    await admin.start()
    try:
        response = await _send(admin, request)
        for user, error_code, message, _ in response.results:
            if error_code and error_code != ignore:
                raise for_code(error_code)(f"{user}: {message}")
    finally:
        await admin.close()
