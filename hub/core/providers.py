"""The provider directory: which treatment provider serves which local authority, and where.

Names and topics are configuration (`hub/config/providers.json`, or `HUB_PROVIDERS_FILE`).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Provider(BaseModel):
    """One local treatment provider, serving one local authority."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    authority_code: str = Field(pattern=r"^E[0-9]{8}$")
    authority_name: str
    name: str
    verified: bool

    @property
    def topic(self) -> str:
        """The provider's referral topic (without the deployment's topic prefix)."""
        return f"referrals.{self.id}.v1"


class ProviderDirectory(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str = ""
    providers: tuple[Provider, ...]

    def by_authority(self, code: str) -> Provider | None:
        return next((p for p in self.providers if p.authority_code == code), None)

    def by_id(self, provider_id: str) -> Provider:
        return next(p for p in self.providers if p.id == provider_id)

    @property
    def authority_codes(self) -> frozenset[str]:
        return frozenset(p.authority_code for p in self.providers)


def load_providers(path: Path | None = None) -> ProviderDirectory:
    """Read the provider directory from `path`, or the one shipped with the hub."""
    text = (
        path.read_text()
        if path
        else resources.files("hub.config").joinpath("providers.json").read_text()
    )
    return ProviderDirectory.model_validate(json.loads(text))
