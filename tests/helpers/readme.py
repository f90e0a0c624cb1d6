"""The README's command blocks, as the newcomer test reads them, and how answers are compared.

Every fenced ``shell`` block of the README is preceded by a marker comment saying what the
newcomer test does with it::

    <!-- newcomer-test: run -->                 run it in the newcomer's shell
    <!-- newcomer-test: run; faster: scripts.train_text_model --epochs 1 -->
                                               ... appending arguments to the lines running
                                               that module (shorter trainings, same commands)
    <!-- newcomer-test: background; port: 5002 -->  run it in a second new shell, left running,
                                               until something answers on that port
    <!-- newcomer-test: skip: REASON -->         not run, and why (Docker, the test suite itself)

and a ``text`` block preceded by ``<!-- newcomer-test: expect -->`` is what the block before it
prints. Expected lines must appear in the output in that order (``...`` stands for lines the
README leaves out); a JSON line is compared by structure, values included, except those that
depend on the demo model or the moment (:data:`VOLATILE_KEYS`, compared by type).
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

MARKER: Final = re.compile(
    r"<!-- newcomer-test: (?P<marker>.*?) -->\s*\n```(?P<language>\w*)\n(?P<body>.*?)\n```",
    re.DOTALL,
)
FENCE: Final = re.compile(r"^```(?P<language>\w*)\s*$", re.MULTILINE)
VOLATILE_KEYS: Final = frozenset(
    {
        "category_id",
        "probabilities",
        "product_id",
        "pred_category_id",
        "loaded_at",
        "run_id",
        "created_at",
        "checked_at",
    }
)
"""JSON keys whose values depend on the trained model, the sample or the clock."""
ELLIPSIS: Final = "..."


@dataclass
class Block:
    """One README command block and what the newcomer test does with it."""

    action: str
    code: str
    faster: dict[str, str] = field(default_factory=dict)
    port: int | None = None
    reason: str = ""
    expected: str | None = None

    def command(self) -> str:
        """The code with the ``faster`` arguments appended to the commands running each module.

        A command continued over several lines (``\\`` at the end) gets them on its last line.
        """
        commands: list[list[str]] = [[]]
        for line in self.code.splitlines():
            commands[-1].append(line)
            if not line.rstrip().endswith("\\"):
                commands.append([])
        lines = []
        for command in commands:
            extra = [
                arguments
                for module, arguments in self.faster.items()
                if any(f"-m {module}" in line for line in command)
            ]
            if extra:
                lines.extend([*command[:-1], " ".join([command[-1].rstrip(), *extra])])
            else:
                lines.extend(command)
        return "\n".join(lines)


def _parse_marker(marker: str, code: str) -> Block:
    action, *options = [part.strip() for part in marker.split(";")]
    if action.startswith("skip:"):
        return Block("skip", code, reason=action.removeprefix("skip:").strip())
    block = Block(action, code)
    for option in options:
        name, _, value = option.partition(":")
        if name.strip() == "faster":
            module, _, arguments = value.strip().partition(" ")
            block.faster[module] = arguments.strip()
        elif name.strip() == "port":
            block.port = int(value)
        else:
            raise ValueError(f"Unknown newcomer-test option {option!r} in {marker!r}")
    if action not in {"run", "background", "expect"}:
        raise ValueError(f"Unknown newcomer-test action {action!r}")
    return block


def read_blocks(readme: Path) -> list[Block]:
    """Return the README's marked blocks in order, each ``expect`` block attached to its run.

    Raises:
        ValueError: A ``shell`` block has no marker, or a marker is malformed.
    """
    text = readme.read_text(encoding="utf-8")
    marked = {match.start("language") - 3 for match in MARKER.finditer(text)}
    for fence in FENCE.finditer(text):
        if fence["language"] in {"shell", "bash", "sh"} and fence.start() not in marked:
            line = text.count("\n", 0, fence.start()) + 1
            raise ValueError(f"README.md line {line}: a shell block without a newcomer-test marker")
    blocks: list[Block] = []
    for match in MARKER.finditer(text):
        block = _parse_marker(match["marker"], match["body"])
        if block.action == "expect":
            if not blocks or blocks[-1].action != "run":
                raise ValueError(f"An expected output follows no run block: {match['body'][:60]}")
            blocks[-1].expected = match["body"]
        else:
            blocks.append(block)
    return blocks


def with_ports(text: str, ports: dict[int, int]) -> str:
    """Replace the README's default ports (``127.0.0.1:8000``, ``-p 5002``...) by the test's."""
    for default, actual in ports.items():
        text = re.sub(rf"(?<=[:\s]){default}\b", str(actual), text)
    return text


def _same_shape(expected: Any, actual: Any, key: str | None = None, prefix: bool = False) -> bool:
    """Compare JSON values; with ``prefix``, an expected list may stop early (``, ...``)."""
    if key in VOLATILE_KEYS:
        return type(expected) is type(actual) or (
            isinstance(expected, (int, float)) and isinstance(actual, (int, float))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(expected) == set(actual)
            and all(_same_shape(expected[name], actual[name], name, prefix) for name in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and (len(expected) <= len(actual) if prefix else len(expected) == len(actual))
            and all(_same_shape(e, a, None, prefix) for e, a in zip(expected, actual, strict=False))
        )
    return bool(expected == actual)


def _line_matches(expected: str, actual: str) -> bool:
    expected, actual = expected.strip(), actual.strip()
    if expected.startswith(("{", "[")):
        prefix = f", {ELLIPSIS}" in expected
        try:
            return _same_shape(
                json.loads(expected.replace(f", {ELLIPSIS}", "")), json.loads(actual), None, prefix
            )
        except json.JSONDecodeError:
            return False
    if re.match(r"^[\w-]+: ", expected):  # an HTTP header: names are case-insensitive
        name, _, value = expected.partition(": ")
        other, _, other_value = actual.partition(": ")
        return name.lower() == other.lower() and value == other_value
    return expected == actual


def unmatched_lines(expected: str, output: str) -> list[str]:
    """Return the expected lines not found, in order, in the output (empty: it matches)."""
    actual = [line for line in output.splitlines() if line.strip()]
    position = 0
    missing = []
    for line in expected.splitlines():
        if not line.strip() or line.strip() == ELLIPSIS:
            continue
        found = next(
            (index for index in range(position, len(actual)) if _line_matches(line, actual[index])),
            None,
        )
        if found is None:
            missing.append(line)
        else:
            position = found + 1
    return missing
