"""One module per command group; each exposes ``command`` (a click command).

Modules here are discovered by name (``maintenance.py`` → ``lpsectl maintenance``);
modules starting with ``_`` are helpers.
"""
