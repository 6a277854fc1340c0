"""The replication settings of the topics the hub creates."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hub.settings import Settings


def test_min_insync_replicas_above_the_replication_factor_is_refused() -> None:
    with pytest.raises(ValidationError, match="no write could ever be acknowledged"):
        Settings(topic_replication_factor=1, topic_min_insync_replicas=2)


def test_a_cluster_s_replication_is_accepted() -> None:
    settings = Settings(topic_replication_factor=3, topic_min_insync_replicas=2)
    assert (settings.topic_replication_factor, settings.topic_min_insync_replicas) == (3, 2)
    assert Settings().topic_min_insync_replicas is None  # the broker's default
