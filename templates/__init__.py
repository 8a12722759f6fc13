"""Jinja templates shipped with lpsectl (package ``lpsectl.templates``)."""
