"""What a command needs from its surroundings, bundled so tests can swap it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from lpsectl import timeutil
from lpsectl.config import Config

if TYPE_CHECKING:
    from lpsectl.store import Store


@dataclass
class AppContext:
    config: Config
    lang: str = "id"
    verbosity: int = 0  # -1 quiet, 0 normal, 1+ verbose
    #: --new-store: a missing or empty history may be started again
    new_store: bool = False
    _store: Store | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        if self._store is None:
            # imported here: commands without a history (logs summarize) start faster
            from lpsectl.store import open_store

            self._store = open_store(self.config, self.new_store)
        return self._store

    #: --at: the moment a dry run or a read-only listing pretends it is (None: the clock)
    at: datetime | None = None

    def now(self) -> datetime:
        return self.at if self.at is not None else timeutil.now(self.config.tz)

    @property
    def templates_dir(self) -> str:
        return self.config.lpse.templates_dir

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
