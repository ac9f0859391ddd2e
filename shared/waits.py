"""Waiting on events with a deadline, for loops that sleep until woken or stopped."""

import asyncio


async def wait_any(*events: asyncio.Event, timeout: float) -> bool:
    """Wait until any event is set or the timeout passes; return whether one was set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)
