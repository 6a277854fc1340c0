"""Referral Hub: one shared assessment, routed to the right treatment provider."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("referral-hub")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
