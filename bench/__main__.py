"""`python -m bench`: run the benchmarks in turn."""

import asyncio

from bench import timers

if __name__ == "__main__":
    asyncio.run(timers.main())
