"""Scenario files: TOML documents validated by pydantic, presets shipped in the package."""
