"""Git commit-msg hook: refuse messages that do not follow Conventional Commits 1.0."""

import re
import sys
from pathlib import Path

TYPES = (
    "build",
    "chore",
    "ci",
    "docs",
    "feat",
    "fix",
    "perf",
    "refactor",
    "revert",
    "style",
    "test",
)
HEADER = re.compile(rf"^(?:{'|'.join(TYPES)})(?:\([\w./-]+\))?!?: \S.*$")
EXEMPT = re.compile(r"^(?:Merge |Revert \"|fixup! |squash! )")


def is_conventional(message: str) -> bool:
    """Tell whether a commit message's first line is a Conventional Commits header."""
    lines = [line for line in message.splitlines() if not line.startswith("#")]
    header = lines[0].strip() if lines else ""
    return bool(EXEMPT.match(header) or HEADER.match(header))


def main(argv: list[str]) -> int:
    """Check the message file git passes to the hook."""
    message = Path(argv[1]).read_text(encoding="utf-8")
    if is_conventional(message):
        return 0
    print(
        "Commit message must follow Conventional Commits, e.g. 'feat(api): add batch predict'.\n"
        f"Allowed types: {', '.join(TYPES)}.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
