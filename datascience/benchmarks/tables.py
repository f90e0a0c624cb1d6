"""Print benchmark figures as an aligned text table."""


def print_table(rows: list[list[str]]) -> None:
    """Print rows (the first one is the header), every column right-aligned."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
