"""The version, in one place (the package, reports and the CLI read it)."""

__version__ = "0.1.0"
