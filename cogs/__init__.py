"""Slash-command cogs: each module is one feature with ``async def setup(bot)``."""
