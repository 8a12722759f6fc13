"""Account (de)activation requests of PPK, Pokja members and procurement officials (SOP 004).

The flow: a request is *received* (letter to the Kepala LPSE, assignment
decree, personal data) → the desk *checks* completeness (10 minutes) and
either returns it (with a notice listing exactly what is missing) or
forwards it to the Admin Agency → the Admin Agency *acts* in SPSE (10
minutes) → the applicant is *notified* (10 minutes) → documents and data are
*archived* (10 minutes). At the end of each year PPK accounts may be
deactivated (:func:`year_end_candidates`).

Rules here are pure functions of their input and an injected ``now``; the
store and file system are touched only by the ``record_*``/``write_*``/
``archive_*`` functions. Personal data never leaves this module unmasked
except in documents for the applicant and in ``--full`` views; every file
written here is mode 0600 in a 0700 folder.

The package's modules follow the flow: :mod:`.base` (constants, settings), :mod:`.requests`,
:mod:`.completeness`, :mod:`.records` (steps and timers), :mod:`.archiving`, :mod:`.yearend`,
:mod:`.documents` and :mod:`.services` (the workflow the commands call). Everything is
re-exported here: ``from lpsectl import access; access.receive(...)``.
"""

from lpsectl.access.archiving import (  # noqa: F401
    archive_request,
)
from lpsectl.access.base import (  # noqa: F401
    ACTIONS,
    ACTIVATE,
    CLOSED,
    DEACTIVATE,
    DECREE,
    DONE,
    FORWARDED,
    LABELS,
    LETTER,
    PERSONAL_FIELDS,
    RECEIVED,
    REJECTED,
    RETURNED,
    ROLES,
    STEPS,
    VIAS,
    AccessSettings,
    add_event,
    archive_dir,
    email_is_valid,
    label,
    load_settings,
    normalize_phone,
    notices_dir,
    phone_is_valid,
)
from lpsectl.access.completeness import (  # noqa: F401
    PROBLEM_MESSAGES,
    Problem,
    check_completeness,
    decree_end,
)
from lpsectl.access.documents import (  # noqa: F401
    NOTICE_TEMPLATES,
    notice_subject,
    queue_notice_email,
    render_notice,
    render_year_end_list,
)
from lpsectl.access.private import (  # noqa: F401
    make_private_dir,
    mask_email,
    mask_phone,
    unused_path,
    view,
    write_private,
)
from lpsectl.access.records import (  # noqa: F401
    AMENDABLE,
    StepTimer,
    amend_request,
    breaches,
    check_values,
    events,
    get_request,
    list_requests,
    record_check,
    record_decision,
    record_notice,
    step_timers,
    stored_problems,
    year_end_due,
)
from lpsectl.access.requests import (  # noqa: F401
    ACTION_WORDS,
    COLUMN_ALIASES,
    ROLE_WORDS,
    BatchError,
    BatchRow,
    Document,
    RequestInput,
    create_request,
    normalize_action,
    normalize_role,
    parse_batch,
    parse_day,
    parse_moment,
    request_from_mapping,
    validate_input,
)
from lpsectl.access.services import (  # noqa: F401
    STDOUT,
    CheckResult,
    DecideResult,
    Notice,
    Receipt,
    YearEndResult,
    acknowledge,
    amend_and_check,
    archive,
    check_request,
    decide_request,
    deliver_notice,
    finish_notice,
    receive,
    receive_batch,
    require_email,
    write_notice,
    year_end,
)
from lpsectl.access.yearend import (  # noqa: F401
    ACCOUNT_COLUMNS,
    ACTIVE_WORDS,
    INACTIVE_WORDS,
    YearEndAccount,
    read_accounts_csv,
    record_year_end,
    year_end_candidates,
)
