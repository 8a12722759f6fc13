"""--output: atomic for files, and never replaces a device such as /dev/null."""

from __future__ import annotations

import os
import stat

from lpsectl.commands._common import emit


def test_output_to_dev_null_keeps_the_device():
    emit("report\n", os.devnull)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_output_file_written_whole(tmp_path):
    target = tmp_path / "r.txt"
    target.write_text("old")
    emit("new report", str(target))
    assert target.read_text() == "new report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["r.txt"]
