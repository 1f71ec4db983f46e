"""Plain-text output shared by the commands: aligned tables like `lxc-ls -f`."""

from __future__ import annotations

from typing import Iterable, Sequence


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns padded to their widest cell; never truncated, so names can be copied."""
    cells = [[str(cell) if cell is not None else "-" for cell in row] for row in rows]
    widths = [max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)]
    lines = ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip()
             for line in [list(headers)] + cells]
    return "\n".join(lines)
