"""Text statistics for the ``text.stats`` task type (pure functions, no I/O)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

# A word: letters or digits, with inner apostrophes or hyphens ("don't", "e-mail").
WORD = re.compile(r"\w+(?:['\u2019-]\w+)*")


def text_stats(*, text: str, top: int) -> dict[str, Any]:
    """Characters (code points), words, lines, and the ``top`` most frequent words.

    Words are compared case-folded; equal counts are listed alphabetically so the
    result does not depend on the order words first appeared in.
    """
    words = [word.casefold() for word in WORD.findall(text)]
    counts = Counter(words)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    return {
        "characters": len(text),
        "words": len(words),
        "lines": len(text.splitlines()),
        "top_words": [[word, count] for word, count in ranked],
    }
