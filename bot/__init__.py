"""Discord bot for the Chastity Tracker games API."""

__version__ = "0.1.0"
