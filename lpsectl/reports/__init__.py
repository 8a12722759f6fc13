"""Report data builders (pure data; rendering is in templates and commands).

The daily report is built by ``daily.build_daily``; feature sections plug in
through ``DAILY_SECTIONS``: each module has ``build(store, config, day, lang)
-> dict | None`` (the dict may hold ``alerts``: a list of
``{"severity", "host", "item", "message"}``), ``text(section, lang) -> str``,
and a template ``daily_<name>.html.j2`` rendered with ``section``.
"""

DAILY_SECTIONS = (
    ("web", "lpsectl.reports.daily_web"),
    ("database", "lpsectl.reports.daily_database"),
    ("logs", "lpsectl.reports.daily_logs"),
    ("usage", "lpsectl.reports.daily_usage"),
)
