"""Scripts run by a host's own Python, sent over SSH compressed.

The probe, the log summariser and the web check are standard-library scripts for
Python 3.6+. Each run sends the script on stdin; zlib makes the summariser's 121 KB
35 KB and the probe's 13 KB 4 KB (for 200 hosts every 15 minutes, 24 MB a run
becomes 7 MB). The host's Python reads it with a one-line bootstrap and runs it as
``__main__`` with the same ``sys.argv[1:]`` as ``python3 - ARGS`` would.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

#: the words an interpreter too old for the scripts says (Python 2 can parse the check)
TOO_OLD = "Python 3.6 or newer needed"
#: what the host's Python runs with ``-c``: a version check any Python parses, the
#: current directory out of the import path (a zlib.py or json.py in the login
#: directory is not ours), then the script compressed on stdin, run as __main__
#: (sys.argv[0] "-" as for a script read from stdin)
BOOTSTRAP = (
    "import sys;sys.version_info>=(3,6) or sys.exit('lpsectl: " + TOO_OLD + ", not '"
    "+sys.version.split()[0]);sys.path[:]=[p for p in sys.path if p not in ('','.')];"
    "import zlib;sys.argv[0]='-';"
    "exec(compile(zlib.decompress(sys.stdin.buffer.read()),'<lpsectl>','exec'),"
    "{'__name__':'__main__'})"
)


@lru_cache(maxsize=8)
def compressed(source: bytes) -> bytes:
    """``source`` zlib-compressed (level 9), once per process and script."""
    return zlib.compress(source, 9)


def script_command(python: str, source: bytes, *args: str) -> tuple[list[str], bytes]:
    """(argv, stdin) that run ``source`` with the host's ``python`` and ``args``."""
    return [python, "-c", BOOTSTRAP, *args], compressed(source)
