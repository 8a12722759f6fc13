"""Log analytics for PostgreSQL (stderr, csvlog, jsonlog) and SPSE application logs.

- ``summarize_remote`` — the one parser and summariser: stdlib-only, Python 3.6,
  imported here and shipped to the servers as ``python3 - REQUEST_JSON``;
- ``summary`` — this side: local summaries, merging runs, text output.
"""
