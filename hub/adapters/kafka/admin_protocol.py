"""The Kafka admin requests aiokafka has wire formats for but no client method (CreateAcls,
DescribeAcls, DeleteAcls: several entries per request), and one it lacks altogether
(AlterUserScramCredentials, KIP-554, API key 51, a flexible version), in aiokafka's own
protocol classes. Sent with the admin client's connection; see `hub.adapters.kafka.acls`."""

from __future__ import annotations

from typing import Any

from aiokafka.protocol.admin import (
    CreateAclsRequest_v1,
    DeleteAclsRequest_v1,
    DescribeAclsRequest_v1,
)
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)


class CreateAcls(Request[CreateAclsRequest_v1]):  # type: ignore[misc]
    """CreateAcls v1 with any number of creations: (resource type, name, pattern type,
    principal, host, operation, permission)."""

    API_KEY = 30

    def __init__(self, creations: list[tuple[Any, ...]]) -> None:
        self._creations = creations

    def build(self, request_struct_class: type[CreateAclsRequest_v1]) -> CreateAclsRequest_v1:
        return request_struct_class(self._creations)


class DescribeAcls(Request[DescribeAclsRequest_v1]):  # type: ignore[misc]
    """DescribeAcls v1 with one filter."""

    API_KEY = 29

    def __init__(self, *acl_filter: Any) -> None:
        self._filter = acl_filter

    def build(self, request_struct_class: type[DescribeAclsRequest_v1]) -> DescribeAclsRequest_v1:
        return request_struct_class(*self._filter)


class DeleteAcls(Request[DeleteAclsRequest_v1]):  # type: ignore[misc]
    """DeleteAcls v1 with any number of filters."""

    API_KEY = 31

    def __init__(self, filters: list[tuple[Any, ...]]) -> None:
        self._filters = filters

    def build(self, request_struct_class: type[DeleteAclsRequest_v1]) -> DeleteAclsRequest_v1:
        return request_struct_class(self._filters)


class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]  # noqa: N801
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]  # noqa: N801
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(
                ("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)
            ),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


_AlterRequest = AlterUserScramCredentialsRequest_v0


class AlterUserScramCredentials(Request[_AlterRequest]):  # type: ignore[misc]
    """Upsert SCRAM credentials: (user, mechanism, iterations, salt, salted password); and
    delete others: (user, mechanism). The password itself never leaves this process (the
    broker stores the salted form)."""

    API_KEY = 51

    def __init__(
        self,
        upsertions: list[tuple[str, int, int, bytes, bytes]],
        deletions: list[tuple[str, int]] | None = None,
    ) -> None:
        self._upsertions = upsertions
        self._deletions = deletions or []

    def build(
        self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]
    ) -> AlterUserScramCredentialsRequest_v0:
        return request_struct_class(
            [(*deletion, {}) for deletion in self._deletions],
            [(*upsertion, {}) for upsertion in self._upsertions],
            {},
        )
