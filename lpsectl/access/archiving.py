"""Archiving a request's documents and data (SOP 004 step 4)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from lpsectl.access.base import CLOSED, _iso, add_event
from lpsectl.access.private import make_private_dir, write_private
from lpsectl.access.records import events
from lpsectl.errors import UsageError
from lpsectl.store import Store

# -- archive ---------------------------------------------------------------------------------


def archive_request(
    store: Store,
    request: Mapping[str, Any],
    root: Path,
    now: datetime,
    copy_to: Path | None = None,
) -> Path:
    """Write the archive record (and copies of the documents when asked); nothing is deleted."""
    if request["status"] not in CLOSED:
        raise UsageError(
            f"access request {request['id']} is still {request['status']}: "
            "it can be archived once returned, done or rejected"
        )
    if request.get("archived_at"):
        raise UsageError(
            f"access request {request['id']} was already archived at "
            f"{request['archived_at']} ({request['archive_path']})"
        )
    folder = (copy_to or root) / f"request-{request['id']}"
    make_private_dir(folder)
    manifest = [_manifest_entry(doc, folder if copy_to else None) for doc in request["documents"]]
    record = {
        **request,
        "archived_at": _iso(now),
        "archive_manifest": manifest,
        "events": events(store, request["id"]),
    }
    write_private(
        folder / "record.json", json.dumps(record, ensure_ascii=False, indent=2, default=str)
    )
    with store.transaction():
        store.update(
            "access_requests",
            request["id"],
            {"archived_at": _iso(now), "archive_path": str(folder), "archive_manifest": manifest},
        )
        add_event(
            store,
            request["id"],
            now,
            "archive",
            {"path": str(folder), "copied": bool(copy_to), "documents": len(manifest)},
        )
    return folder


def _manifest_entry(doc: Mapping[str, str], copy_into: Path | None) -> dict[str, Any]:
    source = Path(doc["path"])
    entry: dict[str, Any] = {"kind": doc["kind"], "path": doc["path"]}
    if not source.is_file():
        return {**entry, "present": False}
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    entry.update(present=True, size=source.stat().st_size, sha256=digest)
    if copy_into is not None:
        target = copy_into / f"{doc['kind']}-{source.name}"
        shutil.copyfile(source, target)
        os.chmod(target, 0o600)
        entry["copy"] = str(target)
    return entry
