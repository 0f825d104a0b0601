"""Generated blocks in the Markdown docs. A script that writes a table into a page owns a
block there: its begin marker, an HTML comment naming the script and what it writes
(`<!-- scripts/bench-table target/criterion writes from here -->`), then the generated
text, then `<!-- to here -->`. `write` replaces what is between the two; the rest of the
page is the authors'. Used by scripts/firmware-budget, scripts/bench-table and
scripts/cortex-m-icount."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
END = "<!-- to here -->"


def check(path: Path, begin: str) -> None:
    """Exits with a message unless `path` has the block `begin` ... END."""
    text = path.read_text()
    start = text.find(begin)
    if start < 0 or END not in text[start:]:
        sys.exit(f"{path.relative_to(ROOT)} lacks the markers {begin!r} and {END!r}: put them "
                 "where the generated text belongs")


def write(path: Path, begin: str, body: str) -> None:
    """Replaces the text between `begin` and the next END in `path` with `body`."""
    check(path, begin)
    text = path.read_text()
    start = text.index(begin)
    end = text.index(END, start) + len(END)
    path.write_text(text[:start] + "\n".join([begin, body.rstrip("\n"), END]) + text[end:])
    print(f"{path.relative_to(ROOT)}: rewrote the block {begin}", file=sys.stderr)
