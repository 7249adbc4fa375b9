"""The installed version of Compute Deal Model (one source: pyproject.toml), for stamps, covers and CDM_VERSION."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The installed version."""
    try:
        return version("compute-deal-model")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"
