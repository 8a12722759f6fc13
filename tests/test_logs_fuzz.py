"""Every parser against hostile input: never a crash, bad lines counted as unparsed."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpsectl.logs import summarize_remote as engine

PREFIX = "%m [%p] %q%u@%d "
GOOD = {
    "stderr": b"2026-11-21 05:36:01.433 UTC [7240] u@d LOG:  duration: 1.5 ms  statement: SELECT 1\n",
    "csvlog": b'2026-11-21 05:36:01.176 UTC,"u","d",7231,,6b01.1c3f,1,,2026-11-21 05:36:01 UTC,,0,'
    b'ERROR,42P01,"relation ""x"" does not exist",,,,,,,,,"","client backend",,0\n',
    "jsonlog": b'{"timestamp":"2026-11-21 05:36:01.543 UTC","pid":7,"error_severity":"ERROR",'
    b'"message":"division by zero","statement":"select 1/0"}\n',
    "spse": b"011026 07:00:21 ERROR ~ \n\n@8gxd6ncf1\njava.lang.NullPointerException: null\n\tat x.Y.z(Y.java:1)\n",
    "access": b'10.0.0.1 - - [01/Dec/2026:08:00:01 +0700] "GET /eproc4/lelang/1/pengumumanlelang HTTP/1.1" '
    b'200 512 "-" "Mozilla/5.0"\n',
}
FRAGMENTS = st.sampled_from(
    [
        b"\n",
        b"\t",
        b" ",
        b'"',
        b"'",
        b",",
        b"{",
        b"}",
        b"\xff\xfe",
        b"\xc3\x28",
        b"\x00",
        b"LOG:  ",
        b"ERROR:  ",
        b"duration: ",
        b" ms  statement: ",
        b"STATEMENT:  ",
        b"DETAIL:  ",
        b"2026-11-21 05:36:01.433 UTC [1] ",
        b"011026 07:00:21 ERROR ~ ",
        b"Caused by: a.B.CException: x",
        b"@abcdefghi",
        b"duration: x ms",
        b"checkpoint complete: wrote",
        b"temporary file: size 9",
        b'10.0.0.1 - - [01/Dec/2026:08:00:01 +0700] "GET /',
        b'" 200 512 "-" "',
    ]
)
HOSTILE = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.one_of(FRAGMENTS, st.binary(max_size=40)), max_size=80).map(b"".join),
)


def summarize_bytes(data: bytes, fmt: str, final: bool = True) -> dict:
    summary = engine.new_summary(fmt)
    engine.summarize_handle(
        io.BytesIO(data), fmt, summary, 0, final, PREFIX if fmt == "stderr" else None
    )
    return engine.result_of(summary)


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=HOSTILE, fmt=st.sampled_from(engine.FORMATS))
def test_random_bytes_never_crash(data, fmt):
    result = summarize_bytes(data, fmt)
    assert result["lines"] == line_count(data)
    assert result["bytes"] == len(data)
    assert 0 <= result["unparsed"] <= result["lines"]


@settings(max_examples=60, deadline=None)
@given(junk=HOSTILE, fmt=st.sampled_from(engine.FORMATS))
def test_good_entries_survive_junk_around_them(junk, fmt):
    junk = junk.replace(b"\n", b" ").replace(b"\r", b" ")
    # junk on a line of its own, then a good entry: the good entry is still counted
    data = b"XX " + junk + b"\n" + GOOD[fmt]
    result = summarize_bytes(data, fmt)
    if fmt == "stderr":
        assert result["query_count"] >= 1
    elif fmt == "access":
        assert result["requests"] >= 1
    else:
        assert result["error_count"] >= 1


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10_000), fmt=st.sampled_from(engine.FORMATS))
def test_truncated_entries_in_a_live_file_are_left_for_later(cut, fmt):
    data = GOOD[fmt] * 5
    cut = cut % (len(data) + 1)
    head = summarize_bytes(data[:cut], fmt, final=False)
    assert head["bytes"] <= cut
    assert head["unparsed"] == 0


def test_invalid_utf8_in_a_statement_is_kept_readable():
    data = b"2026-11-21 05:36:01.433 UTC [1] u@d LOG:  duration: 2.0 ms  statement: SELECT '\xff\xfe' FROM t\n"
    result = summarize_bytes(data, "stderr")
    assert result["query_count"] == 1
    assert result["queries"][0]["fingerprint"] == "select ? from t;"
    assert "\ufffd" in result["queries"][0]["example"]


def test_ten_megabyte_line_and_a_monster_without_newline():
    big = (
        b"2026-11-21 05:36:01.433 UTC [1] u@d LOG:  duration: 2.0 ms  statement: SELECT '"
        + b"x" * (10 << 20)
        + b"'\n"
    )
    data = big + GOOD["stderr"]
    result = summarize_bytes(data, "stderr")
    assert result["query_count"] == 2 and result["unparsed"] == 0
    assert len(result["queries"][0]["example"]) <= engine.MAX_EXAMPLE
    monster = b"y" * (engine.MAX_LINE + 5 * engine.BLOCK) + b"\n" + GOOD["stderr"]
    result = summarize_bytes(monster, "stderr")
    assert result["unparsed"] == 1 and result["query_count"] == 1
    assert result["bytes"] == len(monster)


def test_csv_record_with_an_unterminated_quote_is_bounded():
    data = (
        b'2026-11-21 05:36:01.176 UTC,"u","d",1,,s,1,,t,,0,ERROR,0,"never closed\n'
        + b"line\n" * 5000
    )
    result = summarize_bytes(data, "csvlog")
    assert result["unparsed"] >= 1 and result["lines"] == 5001
