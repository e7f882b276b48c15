"""The interaction layer: from a Discord interaction to a service call and a reply.

Commands, buttons and forms all enter through here (``actions``), so every
member action is flood-controlled once, acknowledged within Discord's window,
and answered (or refused) the same way (``replies``, ``errors``). Services
below this layer know members and servers by id only.
"""
