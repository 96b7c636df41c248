# ruff: noqa: RUF001, RUF002 (lookalike characters are the point of this module)
"""Hostile input for the fuzzers: the strings and JSON values that have broken APIs.

One vocabulary for the in-process fuzzer (``tests/test_hostile_input.py``) and the
schemathesis hooks (``tests/schemathesis_hooks.py``). The classes it searches, beside
what plain random text finds:

* characters that pass one check and fail the next: Unicode digits (``"²".isdigit()``
  is true, ``int("²")`` fails; ``int("٣")`` is 3), fullwidth and mathematical letters
  that NFKC folds onto ASCII (``ｆｏｏ`` is ``foo`` to Django's username
  normalisation), ligatures, the Kelvin sign, dotted capitals;
* invisible and direction-changing characters: zero-width, BOM, RTL/LTR marks and
  isolates, line and paragraph separators, NUL and C0/C1 controls;
* combining marks, stacked on nothing or on a seed;
* numbers written as strings (``"1"``, ``"1e309"``, ``"NaN"``, ``"0x10"``, ``" 1"``,
  a 5,000-digit integer), and JSON's own literals as strings;
* very long strings, around each limit the API has and far past them;
* values built from a seed the endpoint expects (a page number, a task name, an
  existing username), so the hostile part is tried where it can get furthest.

Raw JSON texts (``hostile_json_texts``) add what a parsed value cannot hold: escaped
lone surrogates, invalid UTF-8, a byte-order mark, NaN, duplicate keys, deep nesting.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

UNICODE_DIGITS = [
    "²",  # superscript two: isdigit() yes, isdecimal() no, int() fails
    "³",
    "¹",
    "⁰",
    "₂",  # subscript
    "①",  # circled
    "⑳",
    "⓪",
    "❶",
    "٣",  # Arabic-Indic three: int() reads it as 3
    "۴",  # extended Arabic-Indic
    "१",  # Devanagari one
    "১",  # Bengali one
    "１",  # fullwidth one
    "𝟙",  # mathematical double-struck one
    "߁",  # NKo one
    "Ⅻ",  # Roman numeral twelve (a letter number)
    "½",
    "〇",
    "𐄇",  # Aegean one
]
INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",
    "\u200d",
    "\u2060",  # word joiner
    "\ufeff",  # byte-order mark
    "\u00ad",  # soft hyphen
    "\u00a0",  # no-break space
    "\u3000",  # ideographic space
    "\u2028",  # line separator
    "\u2029",  # paragraph separator
    "\u180e",
]
BIDI = ["\u202e", "\u202d", "\u202a", "\u200f", "\u200e", "\u2066", "\u2067", "\u2069", "\u061c"]
COMBINING = ["\u0301", "\u0308", "\u0336", "\u20dd", "\u0345", "\u1ab0", "\ufe0f", "\u034f"]
CONTROL = ["\x00", "\x01", "\x08", "\x1b", "\x7f", "\x85", "\x9b", "\t", "\r", "\n", "\r\n"]
NUMBERS_AS_TEXT = [
    "0",
    "1",
    "-1",
    "+1",
    "01",
    "1.0",
    "1e3",
    "1e309",
    "-0",
    "0x10",
    "0b1",
    "1_000",
    " 1",
    "1 ",
    "NaN",
    "Infinity",
    "-Infinity",
    "9" * 30,
    "9" * 5000,
    "true",
    "false",
    "null",
    "[]",
    "{}",
    '"1"',
]
LOOKALIKES = [
    "ｆｏｏ",  # fullwidth
    "ａｄｍｉｎ",
    "𝐚𝐝𝐦𝐢𝐧",  # mathematical bold
    "ﬁ",  # ligature: NFKC "fi"
    "K",  # Kelvin sign: NFKC "K"
    "Å",  # angstrom sign
    "İ",  # dotted capital I: lower() is two characters
    "ß",  # upper() is "SS"
    "ǅ",  # titlecase digraph
    "ı",
    "ﷺ",  # one character, NFKC 18
    "ᴬ",  # modifier letter
    "ⓐ",  # circled letter
]
SPECIAL = [
    "",
    " ",
    ".",
    "..",
    "../..",
    "/",
    "\\",
    "%",
    "%00",
    "%2F",
    "%%",
    "'",
    '"',
    "`",
    ";",
    ",",
    "=",
    "&",
    "?",
    "#",
    "*",
    "_",
    "-",
    "last",
    "<script>",
    "${x}",
    "{{x}}",
    "%(x)s",
    "\ud800",  # a lone surrogate (in a Python string: what a lenient decoder yields)
    "\udfff",
    "😀",
    "👩‍👩‍👧",  # zero-width joiner sequence
    "\U0010ffff",
    "\uffff",
]
ATOMS: list[str] = [
    *UNICODE_DIGITS,
    *INVISIBLE,
    *BIDI,
    *COMBINING,
    *CONTROL,
    *NUMBERS_AS_TEXT,
    *LOOKALIKES,
    *SPECIAL,
]
# Lengths just over the API's limits (key names, usernames, task names, user agents,
# idempotency keys) and far beyond them.
LONG_LENGTHS = [101, 129, 151, 201, 256, 257, 1001, 4097, 100_001]

_FULLWIDTH_OFFSET = 0xFEE0  # "!" (0x21) .. "~" (0x7E) -> U+FF01 .. U+FF5E
_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_MATH_BOLD = {
    **{chr(c): chr(0x1D400 + c - ord("A")) for c in range(ord("A"), ord("Z") + 1)},
    **{chr(c): chr(0x1D41A + c - ord("a")) for c in range(ord("a"), ord("z") + 1)},
    **{chr(c): chr(0x1D7CE + c - ord("0")) for c in range(ord("0"), ord("9") + 1)},
}


def fullwidth(text: str) -> str:
    return "".join(
        chr(ord(c) + _FULLWIDTH_OFFSET) if "!" <= c <= "~" else "\u3000" if c == " " else c
        for c in text
    )


def math_bold(text: str) -> str:
    return "".join(_MATH_BOLD.get(c, c) for c in text)


def circled(text: str) -> str:
    """Lower-case letters as circled ones (ⓐ is "a" to NFKC)."""
    return "".join(chr(0x24D0 + ord(c) - ord("a")) if "a" <= c <= "z" else c for c in text)


def lookalikes_of(seed: str) -> list[str]:
    """Spellings of ``seed`` that Unicode normalisation or a careless check confuses
    with it (NFKC folds most of them back onto ``seed``)."""
    return [
        fullwidth(seed),
        math_bold(seed),
        circled(seed),
        seed.translate(_SUPERSCRIPTS),
        unicodedata.normalize("NFKD", seed + "é"),
        seed + "\u0301",
        "\u200b".join(seed),
        seed + "\ufeff",
        "\u202e" + seed,
        seed.upper(),
        seed.replace("k", "K").replace("K", "K"),
        seed.replace("fi", "ﬁ"),
        seed + "\x00",
        f" {seed} ",
    ]


def nfkc_twins(seed: str) -> list[str]:
    """The lookalikes of ``seed`` that are other strings but NFKC-normalise to it: what a
    uniqueness check must see as ``seed`` itself (Django normalises usernames so)."""
    return [
        twin
        for twin in lookalikes_of(seed)
        if twin != seed and unicodedata.normalize("NFKC", twin) == seed
    ]


def hostile_digits(*, seeds: Sequence[str] = ("1",)) -> st.SearchStrategy[str]:
    """Numbers as text of every kind of Unicode digit, alone or among ASCII digits
    (``²``, ``1⁰``, ``①2``, ``٣``, ``１``): what ``isdigit()`` accepts and ``int()`` may not."""
    digit = st.one_of(
        st.sampled_from(UNICODE_DIGITS),
        st.characters(categories=("Nd", "No", "Nl")),
        st.sampled_from("0123456789"),
    )
    seed = st.sampled_from(list(seeds))
    return st.one_of(
        st.lists(digit, min_size=1, max_size=4).map("".join),
        st.tuples(seed, digit).map("".join),
        st.tuples(digit, seed).map("".join),
    )


def hostile_text(*, seeds: Sequence[str] = ("1",)) -> st.SearchStrategy[str]:
    """A hostile string; ``seeds`` are values the target accepts, to build on."""
    atom = st.sampled_from(ATOMS)
    seed = st.sampled_from(list(seeds))
    nasty_characters = st.characters(
        categories=("Nd", "No", "Nl", "Mn", "Me", "Cf", "Cc", "Co", "Zs", "Zl", "Zp", "Sk")
    )
    return st.one_of(
        atom,
        st.tuples(seed, atom).map("".join),  # "1²", "20\u200b"
        st.tuples(atom, seed).map("".join),  # "²1", "\u202e20"
        st.tuples(seed, atom, seed).map("".join),
        seed.flatmap(lambda s: st.sampled_from(lookalikes_of(s))),
        hostile_digits(seeds=seeds),
        st.lists(atom, min_size=2, max_size=6).map("".join),
        st.text(alphabet=nasty_characters, min_size=1, max_size=12),
        st.text(max_size=40),
        st.tuples(
            st.sampled_from(["x", "²", "é", "\u0301", "😀"]), st.sampled_from(LONG_LENGTHS)
        ).map(lambda pair: pair[0] * pair[1]),
    )


def hostile_json(*, seeds: Sequence[str] = ("1",)) -> st.SearchStrategy[Any]:
    """A JSON value, mostly hostile strings, with awkward numbers and shapes."""
    scalars = st.one_of(
        hostile_text(seeds=seeds),
        st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**400, True, False, None]),
        st.sampled_from([0.5, -0.0, 1e308, -1e308, 5e-324, 1e300, 1.5]),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(hostile_text(seeds=seeds), inner, max_size=4),
        ),
        max_leaves=8,
    )


def hostile_json_texts() -> st.SearchStrategy[bytes]:
    """Request bodies no JSON value can stand for."""
    return st.sampled_from(
        [
            b'{"value": "\\ud800"}',
            b'{"key": "\\udfff", "value": 1}',
            b'{"username": "\\ud83d", "password": "x"}',
            b'\xef\xbb\xbf{"value": 1}',  # UTF-8 byte-order mark
            b'{"value": "\xff\xfe"}',  # invalid UTF-8
            b'{"value": NaN}',
            b'{"value": Infinity}',
            b'{"value": 1e99999}',
            b'{"value": ' + b"9" * 5000 + b"}",
            b'{"value": 1, "value": 2}',
            b'{"seconds": 60, "seconds": "x"}',
            b"[" * 5000 + b"]" * 5000,
            b'{"a":' * 2000 + b"1" + b"}" * 2000,
            b"",
            b"null",
            b'"text"',
            b"\x00",
            b"{",
            b'{"value": 1}garbage',
            '{"value": "ｆｏｏ"}'.encode("utf-16"),
        ]
    )


def as_header_value(text: str) -> str:
    """``text`` as a WSGI server hands a header to Django: its UTF-8 bytes read as
    Latin-1, without the CR, LF and NUL that no server lets through."""
    raw = text.encode("utf-8", "surrogatepass").decode("latin-1")
    return raw.replace("\r", "").replace("\n", "").replace("\x00", "")
