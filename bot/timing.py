"""How the bot waits out a pause: an injectable ``sleep``, so tests decide when time is up.

Production passes :func:`asyncio.sleep`; a test passes a sleep that records the
seconds asked for and returns when the test releases it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Sleep = Callable[[float], Awaitable[None]]
"""Waits ``seconds``: :func:`asyncio.sleep` outside tests."""


async def done_within(future: asyncio.Future[Any], seconds: float, sleep: Sleep) -> bool:
    """Wait until ``future`` is done or ``sleep(seconds)`` returns; True if it is done.

    ``future`` is left running when the time is up.
    """
    timer = asyncio.ensure_future(sleep(seconds))
    try:
        await asyncio.wait({future, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        # Not `await timer`: a cancellation of this task while waiting must propagate.
        await asyncio.wait({timer})
    return future.done()
