"""The message catalogs (lpsectl/locale, made with Babel by scripts/i18n).

- the template (.pot) holds exactly the messages of today's code and templates;
- both catalogs translate every message, with the same ``{placeholders}``;
- the shipped .mo files say what the .po files say;
- every message stored as English text comes back in Indonesian (and no stored
  pattern shadows another);
- no English leaks into an Indonesian document (the golden documents, rendered by
  the report tests from the same code).
"""

from __future__ import annotations

import html
import importlib.machinery
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations

from lpsectl import i18n, messages
from lpsectl.render import render

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "lpsectl" / "locale"
GOLDEN = Path(__file__).parent / "golden"


def load_script():
    loader = importlib.machinery.SourceFileLoader("i18n_script", str(ROOT / "scripts" / "i18n"))
    spec = importlib.util.spec_from_loader("i18n_script", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def read_catalog(path: Path, lang: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def keys(catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id) for m in catalog if m.id}


def test_template_holds_the_messages_of_the_code(tmp_path: Path) -> None:
    script = load_script()
    fresh = tmp_path / "fresh.pot"
    script.extract(fresh)
    committed = keys(read_catalog(LOCALE / "lpsectl.pot"))
    now = keys(read_catalog(fresh))
    assert now - committed == set(), "new messages: run scripts/i18n and translate them"
    assert committed - now == set(), "messages gone from the code: run scripts/i18n"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_catalog_translates_every_message(lang: str) -> None:
    template = keys(read_catalog(LOCALE / "lpsectl.pot"))
    catalog = read_catalog(LOCALE / lang / "LC_MESSAGES" / "lpsectl.po", lang)
    assert template - keys(catalog) == set(), f"run scripts/i18n: {lang} lacks messages"
    assert load_script().check(lang) == []


def test_check_finds_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog check itself can fail: untranslated, fuzzy, a placeholder renamed."""
    script = load_script()
    po = tmp_path / "id" / "LC_MESSAGES" / "lpsectl.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: id\\n"\n\n'
        'msgid "a {host}"\nmsgstr "b {server}"\n\n'
        'msgid "untranslated"\nmsgstr ""\n\n'
        '#, fuzzy\nmsgid "near"\nmsgstr "dekat"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(script, "LOCALE", tmp_path)
    monkeypatch.setattr(script, "ROOT", tmp_path)
    problems = "\n".join(script.check("id"))
    assert "'a {host}': placeholders differ" in problems
    assert "'untranslated': not translated" in problems
    assert "'near': fuzzy" in problems


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_shipped_mo_says_what_the_po_says(lang: str) -> None:
    po = LOCALE / lang / "LC_MESSAGES" / "lpsectl.po"
    with po.with_suffix(".mo").open("rb") as f:
        compiled = Translations(f)
    for message in read_catalog(po, lang):
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # plural forms: Indonesian has one, English two
            strings = message.string
            for n in (1, 2):
                want = strings[min(catalog_plural(lang, n), len(strings) - 1)]
                assert compiled.ngettext(*message.id, n) == want, f"stale .mo: {message.id!r}"
            continue
        got = (
            compiled.pgettext(message.context, message.id)
            if message.context
            else compiled.gettext(message.id)
        )
        assert got == message.string, f"stale .mo for {message.id!r}: run scripts/i18n compile"


def catalog_plural(lang: str, n: int) -> int:
    from babel.messages.plurals import get_plural

    return 0 if get_plural(lang).num_plurals == 1 else int(n != 1)


def test_every_stored_message_comes_back_in_indonesian() -> None:
    """Each stored msgid, formatted with distinct values, is found again (and not as
    another, shorter pattern) and rendered with the Indonesian text and the same values."""
    _ = i18n.gettext("id")
    assert len(i18n._STORED) >= 40
    for msgid in i18n._STORED:
        names = sorted(
            {n for _lit, n, _s, _c in __import__("string").Formatter().parse(msgid) if n}
        )
        values = {name: f"V{index}x" for index, name in enumerate(names)}
        text = msgid.format(**values)
        assert i18n.localize(text, "en") == text
        assert i18n.localize(text, "id") == _(msgid).format(**values), msgid


def test_localize_nests_and_leaves_foreign_text_alone() -> None:
    text = messages.CANNOT_CONNECT.format(target="10.0.0.11:22", reason="Connection refused")
    assert i18n.localize(text, "id") == "tidak dapat terhubung ke 10.0.0.11:22: koneksi ditolak"
    pg = messages.STATEMENTS_NOT_INSTALLED.format(
        db="spse", host="db1", hint=messages.ENABLE_STATEMENTS.format(db="spse")
    )
    assert "belum terpasang" in i18n.localize(pg, "id")
    assert "CREATE EXTENSION pg_stat_statements; di basis data spse" in i18n.localize(pg, "id")
    # a closed port as paramiko says it (seen on a real host: every address refused)
    refused = messages.CANNOT_CONNECT.format(
        target="127.0.0.9:2299", reason="Unable to connect to port 2299 on 127.0.0.9"
    )
    assert i18n.localize(refused, "id") == (
        "tidak dapat terhubung ke 127.0.0.9:2299: tidak dapat terhubung ke port 2299 di 127.0.0.9"
    )
    assert i18n.localize("ERROR:  deadlock detected", "id") == "ERROR:  deadlock detected"
    assert i18n.localize(None, "id") is None


def test_a_missing_shipped_catalog_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """An installation without its .mo would print English silently: it fails instead."""
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(FileNotFoundError):
            i18n.translations("id")
        assert i18n.translations("fr").gettext("Since") == "Since"
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()


# -- English in Indonesian documents ----------------------------------------------------

#: words that are English only (not Indonesian, not a field term kept in Indonesian
#: texts such as server, log, host, cache, rollback, deadlock, load, swap)
ENGLISH = set(
    """the is are was were be been not cannot could would should has have had also since
    from with without which that this these those only more than into when where while
    running installed available unavailable reachable unreachable refused missing stale
    found read rotated day days hour hours minute minutes seconds implemented analysed
    approved recorded consulted closed consult_lkpp lkpp_assistance vendor_proposal
    undecided warning warnings critical error errors file files used free full none
    unknown yes true false failed failure because after before until of to in on at by
    for and or but its it memory service services query queries calls""".split()
)


def english_words(text: str) -> list[str]:
    """English words outside quoted text (backticks, quotes), markup, paths and
    ALL-CAPS log levels (ERROR, FATAL are PostgreSQL's own terms)."""
    text = re.sub(r"<style.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<code>.*?</code>", " ", text, flags=re.S)  # quoted: log text, queries
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)  # a message's {placeholders}
    text = re.sub(r'"[^"\n]*"|“[^”\n]*”|«[^»\n]*»', " ", text)
    text = re.sub(r"\S*[/\\]\S*", " ", text)
    return [w for w in re.findall(r"[A-Za-z_']+", text) if not w.isupper() and w.lower() in ENGLISH]


def test_leak_check_finds_english() -> None:
    assert english_words("tidak terjangkau: cannot connect to the host") == [
        "cannot",
        "to",
        "the",
    ]
    assert english_words("| `deadlock detected at x` | ERROR | /var/log/the.log |") == []


INDONESIAN_GOLDEN = sorted(
    str(p.relative_to(GOLDEN))
    for p in [*GOLDEN.glob("*"), *GOLDEN.glob("changes/id/*")]
    if ".id." in p.name or "_id." in p.name or p.parent.name == "id"
)


@pytest.mark.parametrize("name", INDONESIAN_GOLDEN)
def test_indonesian_documents_have_no_english(name: str) -> None:
    text = re.sub(r"<style.*?</style>", " ", (GOLDEN / name).read_text(), flags=re.S)
    found = {
        n: english_words(line) for n, line in enumerate(text.splitlines(), 1) if english_words(line)
    }
    assert found == {}, f"{name}: English outside quoted text: {found}"


def test_localize_is_bounded_and_keeps_names_as_written():
    import time

    hostile = '"' + '": ' * 5000  # 15 KB of the generic reason's separators
    started = time.process_time()
    assert i18n.localize(hostile, "id") == hostile
    assert i18n.localize(", and the shell fallback failed: y" * 50, "id")  # no RecursionError
    assert time.process_time() - started < 5
    # a host that happens to be called like a message stays its name; a reason is translated
    text = messages.CANNOT_CONNECT.format(target="no message", reason="No route to host")
    assert (
        i18n.localize(text, "id") == "tidak dapat terhubung ke no message: tidak ada rute ke host"
    )
    # the administrator's own words inside a classifier reason are kept as written
    reason = messages.PARAMETER_REASON.format(phrase="log setting")
    assert i18n.localize(reason, "id") == '"log setting": parameter konfigurasi'


def test_a_reason_holding_another_message_comes_back_whole():
    """The probe's joined detail, and a message whose value is itself a message."""
    detail = messages.NO_PID_FILE_NO_JAVA.format(
        detail=messages.PID_FILE_UNREADABLE.format(path="/srv/spse/server.pid", reason="x"),
        path="/srv/spse",
    )
    assert i18n.localize(detail, "id") == (
        "/srv/spse/server.pid tidak dapat dibaca (x); tidak ada proses java di bawah /srv/spse"
    )
    shell = messages.SHELL_FALLBACK_FAILED.format(
        why=messages.PYTHON_NOT_FOUND.format(python="python3"), reason="Permission denied"
    )
    assert i18n.localize(shell, "id") == (
        "python3 tidak ditemukan di server, dan cara cadangan dengan perintah shell juga gagal: "
        "akses ditolak"
    )


def test_no_indonesian_text_of_the_catalog_is_english():
    """Every Indonesian msgstr, as the documents will show it: no English word outside
    quotes and placeholders (settings written as in postgresql.conf are code)."""
    catalog = read_catalog(LOCALE / "id" / "LC_MESSAGES" / "lpsectl.po", "id")
    found = {}
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            if not message.id or " = " in text:
                continue
            words = english_words(text)
            if words:
                found[text] = words
    assert found == {}


def test_no_message_escapes_extraction():
    """``gettext(lang)("text")`` translates but pybabel cannot see the literal (its first
    argument is the language): write ``_ = gettext(lang)`` then ``_("text")``."""
    hidden = []
    for path in sorted((ROOT / "lpsectl").rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bn?gettext\([^()]*\)\(\s*[\"']", line):
                hidden.append(f"{path.relative_to(ROOT)}:{n}")
    assert hidden == []


def test_the_summarisers_warnings_come_back_in_indonesian():
    """The remote script (Python 3.6, no catalogs) writes English warnings with its own
    formatting; a document shows them in Indonesian."""
    from lpsectl.logs import summarize_remote as sr

    left = sr._mib(3 * 1024 * 1048576)
    budget = (
        "/var/log/pg.log: read " + sr._mib(512 * 1048576) + " this run, up to the read budget "
        "(hosts.log_read_mib, hosts.log_read_seconds); the next runs go on from there ("
        + left
        + " left)"
    )
    assert i18n.localize(budget, "id") == (
        "/var/log/pg.log: dibaca 512.0 MiB pada putaran ini, sampai batas baca "
        "(hosts.log_read_mib, hosts.log_read_seconds); putaran berikutnya melanjutkan dari "
        "sana (sisa 3072.0 MiB)"
    )
    rotated = "/p.log: also read /p.log.2 (rotated more than once since the last run)"
    assert i18n.localize(rotated, "id") == (
        "/p.log: juga dibaca /p.log.2 (dirotasi lebih dari sekali sejak putaran terakhir)"
    )


def test_a_letters_values_are_escaped_and_its_own_markup_kept():
    """A letter's sentence is a catalog message holding its own <strong>; what is
    filled into it (an LPSE's name, a reason typed by the admin) is escaped."""
    from datetime import datetime, timedelta
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from lpsectl.render import render

    zone = ZoneInfo("Asia/Jakarta")
    window = SimpleNamespace(
        start=datetime(2026, 12, 9, 21, 0, tzinfo=zone),
        end=datetime(2026, 12, 10, 0, 0, tzinfo=zone),
        duration=timedelta(hours=3),
        services=["SPSE <4>"],
        reason="<script>alert(1)</script>",
        emergency=False,
        emergency_why="",
    )
    context = dict(
        w=window,
        previous=window,
        running_text="teks",
        committees=[],
        unlisted=[],
        skipped=[],
        lpse='LPSE "Uji" <b>',
    )
    out = render("maintenance_helpdesk.html.j2", "id", **context)
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "Yth. Tim Helpdesk LPSE &#34;Uji&#34; &lt;b&gt;," in out
    assert "<title>Pemeliharaan SPSE LPSE &#34;Uji&#34; &lt;b&gt;</title>" in out
    # the message's own markup stays markup, in the reader's language
    assert "<strong>30 menit</strong>" in out
    assert "<strong>Jadwal pemeliharaan SPSE berubah.</strong> Jadwal lama: " in out
    assert "SPSE &lt;4&gt;" in out
    # the same letter as text: nothing escaped, labels padded to the longest
    text = render("maintenance_helpdesk.txt.j2", "id", **context)
    assert "<script>alert(1)</script>" in text and 'Yth. Tim Helpdesk LPSE "Uji" <b>,' in text
    assert "  Keperluan : <script>" in text and "  Mulai     : Rabu, 9 Desember 2026" in text
    english = render("maintenance_helpdesk.txt.j2", "en", **context)
    assert (
        "  Duration  : 3 hours" in english and "  Start     : Wednesday, 9 December 2026" in english
    )


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_shipped_letter_is_one_template_for_both_languages(lang):
    """No shipped per-language copies: a letter's words come from the catalog."""
    templates = Path(__file__).parent.parent / "templates"
    assert not (templates / lang).exists()
    letters = sorted(
        p.name
        for p in templates.glob("*.j2")
        if p.name.startswith(("access_", "change_", "maintenance_"))
    )
    assert len(letters) >= 30
    for name in letters:
        text = (templates / name).read_text()
        # every sentence is a message: no run of 4+ plain English words outside a tag
        outside = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<[^>]+>", " ", text, flags=re.S)
        words = re.findall(r"(?:\b[A-Za-z][a-z]+\b[ ,.;:]+){4,}", outside)
        assert not words, (name, words)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_plain_pybabel_compile_accepts_both_catalogs(lang):
    """Babel's own checks (what `pybabel compile` runs): a message whose text reads
    as a printf format ("45% of" is "% o") would be refused; percentages come with
    their sign in the value instead."""
    with (LOCALE / lang / "LC_MESSAGES" / "lpsectl.po").open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    problems = [(message.id, [str(e) for e in errors]) for message, errors in catalog.check()]
    assert problems == []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_gnu_msgfmt_accepts_both_catalogs(lang, tmp_path):
    """GNU gettext's own check (what Poedit and Weblate run): the same placeholders,
    and a message that begins or ends with a newline translated alike."""
    po = LOCALE / lang / "LC_MESSAGES" / "lpsectl.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--check-format", "-o", str(tmp_path / "out.mo"), str(po)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    errors = [line for line in result.stderr.splitlines() if "warning: header field" not in line]
    assert errors == []


def test_every_letter_in_indonesian_holds_no_english_message():
    """Each letter rendered in Indonesian with every branch a context can take: no
    English text of a letter's own messages is left in it."""
    import runpy

    cases = runpy.run_path(str(Path(__file__).parent / "fixtures" / "letters.py"))["CASES"]
    templates = Path(__file__).parent.parent / "templates"
    ours = set()
    for path in templates.glob("*.j2"):
        ours.update(re.findall(r'_\("((?:[^"\\]|\\.)*)"\)', path.read_text()))
        ours.update(re.findall(r'pgettext\("[^"]*", "((?:[^"\\]|\\.)*)"\)', path.read_text()))
    # the letters' English sentences, as the templates write them (labels of one or two
    # words may read alike in both languages)
    sentences = [m for m in ours if len(m.split()) >= 3]
    assert len(sentences) > 80
    rendered = 0
    for name, contexts in cases.items():
        for context in contexts:
            text = render(name, "id", **context)
            rendered += 1
            for sentence in sentences:
                fixed = re.split(r"\{[^}]*\}", sentence.replace("\\n", "\n"))
                longest = max(fixed, key=len).strip()
                assert len(longest) < 12 or longest not in text, (name, sentence)
    assert rendered >= 200
