"""Exceptions that the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class FipscanError(Exception):
    """Base class of every user-facing error of fipscan (bad input, bad config, bad cache)."""


class InputError(FipscanError, ValueError):
    """Bad user input: a mass out of range, a non-positive coupling, NaN, a malformed range."""


class ConfigError(FipscanError, ValueError):
    """An unknown model or experiment, or a malformed configuration (TOML) file."""


class CacheError(FipscanError):
    """A cache or data file that is truncated, corrupt, of a foreign schema, or unwritable."""
