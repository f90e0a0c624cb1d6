"""The README's marked command blocks parse, and the answer comparison can fail."""

from pathlib import Path

import pytest

from product_classifier.paths import REPOSITORY_ROOT
from tests.helpers.readme import Block, read_blocks, unmatched_lines, with_ports

README = REPOSITORY_ROOT / "README.md"


def test_every_shell_block_of_the_readme_is_marked_and_run_or_skipped_with_a_reason() -> None:
    blocks = read_blocks(README)
    assert [block for block in blocks if block.action == "run"], "the newcomer test runs blocks"
    for block in blocks:
        assert block.action in {"run", "background", "skip"}
        assert block.action != "skip" or block.reason, block.code


def test_an_unmarked_shell_block_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "<!-- newcomer-test: run -->\n```shell\necho a\n```\n\n```shell\necho b\n```\n"
    )
    with pytest.raises(ValueError, match="line 6: a shell block without a newcomer-test marker"):
        read_blocks(readme)


def test_expected_output_and_faster_arguments_attach_to_their_block(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(
        "<!-- newcomer-test: run; faster: scripts.train_text_model --epochs 1 -->\n"
        "```shell\nuv run python -m scripts.train_text_model --input-dir d\necho done\n```\n"
        "<!-- newcomer-test: expect -->\n```text\ndone\n```\n"
        "<!-- newcomer-test: background; port: 5002 -->\n```shell\nserve -p 5002\n```\n"
    )
    run, background = read_blocks(readme)
    assert run.expected == "done"
    assert run.command().splitlines()[0].endswith("--input-dir d --epochs 1")
    assert run.command().splitlines()[1] == "echo done"
    assert (background.action, background.port) == ("background", 5002)


def test_ports_are_replaced_in_urls_and_options() -> None:
    text = "curl http://127.0.0.1:8000/api/v1 localhost:5002/x -p 5002 # 80000 5000x"
    assert with_ports(text, {8000: 41000, 5002: 42000}) == (
        "curl http://127.0.0.1:41000/api/v1 localhost:42000/x -p 42000 # 80000 5000x"
    )


@pytest.mark.parametrize(
    ("output", "missing"),
    [
        (
            "HTTP/1.1 200 OK\ndate: x\nX-Model-Version: 1\n"
            '[{"category_id":10,"probabilities":3.5}]',
            [],
        ),
        (
            "HTTP/1.1 200 OK\nx-model-version: 2\n[]",
            ["x-model-version: 1", '[{"category_id":2522,"probabilities":95.4}]'],
        ),
        (
            'x-model-version: 1\nHTTP/1.1 200 OK\n[{"category_id":10,"probabilities":3.5}]',
            ["x-model-version: 1"],
        ),
        (
            'HTTP/1.1 200 OK\nx-model-version: 1\n[{"category_id":"10","probabilities":3.5}]',
            ['[{"category_id":2522,"probabilities":95.4}]'],
        ),
    ],
)
def test_expected_lines_must_appear_in_order_with_the_same_shape(output, missing) -> None:
    expected = (
        'HTTP/1.1 200 OK\n...\nx-model-version: 1\n...\n[{"category_id":2522,"probabilities":95.4}]'
    )
    assert unmatched_lines(expected, output) == missing


def test_stable_json_values_must_be_equal_and_lists_may_be_cut_short() -> None:
    feedback = '{"id":1,"model_version":"1","real_category_id":2522,"product_id":7}'
    assert unmatched_lines(feedback, feedback.replace("7", "8")) == []
    assert unmatched_lines(feedback, feedback.replace("2522", "10")) == [feedback]
    served = '{"predictions": [[{"category_id": 1280, "probabilities": 41.3}, ...]]}'
    actual = (
        '{"predictions": [[{"category_id": 10, "probabilities": 90.0}, '
        '{"category_id": 40, "probabilities": 10.0}]]}'
    )
    assert unmatched_lines(served, actual) == []
    assert unmatched_lines(served, '{"predictions": [[]]}') == [served]


def test_faster_arguments_go_to_the_end_of_a_continued_command() -> None:
    block = Block(
        "run",
        "uv run python -m scripts.create_datasets --input-dir a \\\n    --output-dir b\necho done",
        faster={"scripts.create_datasets": "--image-size 32"},
    )
    assert block.command() == (
        "uv run python -m scripts.create_datasets --input-dir a \\\n"
        "    --output-dir b --image-size 32\necho done"
    )


def test_block_command_without_faster_arguments_is_the_code() -> None:
    assert Block("run", "echo 1\necho 2").command() == "echo 1\necho 2"
