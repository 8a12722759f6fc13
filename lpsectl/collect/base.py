"""What every collector returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Collected:
    """One kind of data from one host.

    ``unavailable`` maps an item name to the reason it could not be collected
    (reported as such, never as a zero). ``error`` set means nothing of this
    kind could be collected.
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    #: the exception class behind ``error`` (as fabric keeps the exception), e.g. "HostTimeoutError"
    error_type: str | None = None
    #: ``data`` was checked against its kind's schema (stored as schemas.SHAPES_VERSION)
    shape_checked: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None
