"""The live directory: what a running service reads, reloaded from its file on SIGHUP (`kill -HUP <pid>`)."""

import signal
import weakref
from asyncio import AbstractEventLoop
from pathlib import Path

import structlog

from shared.directory import Directory
from shared.directory_file import DirectoryError, open_directory

log = structlog.get_logger()

_ON_SIGHUP: "weakref.WeakSet[LiveDirectory]" = weakref.WeakSet()


def _reload_all() -> None:
    for live in list(_ON_SIGHUP):
        live.reload()


class LiveDirectory:
    """The directory a running service reads, reloaded from its file on SIGHUP: all at once, and only
    if the new file is valid (a bad file is refused and the one in use kept). Read `current` at each
    use, not once, so a revoked key stops working at the next request."""

    def __init__(self, path: Path | None, *, allow_examples: bool = False) -> None:
        self.path = path
        self.allow_examples = allow_examples
        self.current = open_directory(path, allow_examples=allow_examples)

    def reload(self) -> bool:
        """Read the file again; keep the directory in use if the new one cannot be used."""
        try:
            fresh = open_directory(self.path, allow_examples=self.allow_examples)
        except DirectoryError as exc:
            log.error("directory_reload_refused", path=str(self.path), reason=str(exc).splitlines()[0])
            return False
        self.current = fresh
        log.info("directory_reloaded", path=str(self.path), organisations=len(fresh.organisations))
        return True

    def reload_on_sighup(self, loop: AbstractEventLoop) -> None:
        """Reload whenever the process receives SIGHUP (`kill -HUP <pid>`), with every other directory
        of the process that asked the same."""
        _ON_SIGHUP.add(self)
        loop.add_signal_handler(signal.SIGHUP, _reload_all)

    def stop_reloading(self) -> None:
        """The service stops: SIGHUP no longer concerns this directory."""
        _ON_SIGHUP.discard(self)

    @classmethod
    def fixed(cls, directory: Directory) -> "LiveDirectory":
        """A directory that is never reloaded (tests and tools that build one in memory)."""
        live = cls.__new__(cls)
        live.path, live.allow_examples, live.current = None, True, directory
        return live
