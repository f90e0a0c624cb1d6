"""Plain-text tables for the command-line scripts: left-aligned columns, two spaces apart."""


def aligned_lines(rows: list[list[str]]) -> list[str]:
    """Return the rows as lines, each column as wide as its widest cell (trailing blanks cut).

    Args:
        rows: Cells, the header first; every row has the same number of cells.
    """
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
