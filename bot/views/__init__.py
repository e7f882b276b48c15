"""Buttons and dialogs for LINK voting: the penalty confirmation, panels and polls.

Panel and poll buttons are ``discord.ui.DynamicItem`` subclasses whose
``custom_id`` carries the panel or poll id, so a click works whatever message
it comes from and after any restart; the cog that owns them declares them in
``dynamic_items`` and the bot registers them at start.
"""
