"""discord.ui classes only: the vote buttons of panels and polls, dialogs and forms.

Panel and poll buttons are ``discord.ui.DynamicItem`` subclasses whose
``custom_id`` carries the panel or poll id, so a click works whatever message
it comes from and after any restart; the bot registers them at start. What a
click does is the interaction layer's (``bot.interactions``).
"""
