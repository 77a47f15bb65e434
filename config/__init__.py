"""Typed settings for Liaison, loaded once from ``LIAISON_*`` environment variables."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
