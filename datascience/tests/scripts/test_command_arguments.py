"""Arguments a command cannot use are refused when it starts (argparse: one line, status 2).

A gate switched off by ``--min-gain nan``, an image side the model cannot read, a weights file
that does not exist: each was found only later (or never), after minutes of other work.
"""

from pathlib import Path

import pytest

from scripts import bootstrap_demo, evaluate_challenger, promote_model, train_image_model


def _usage_error(main, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("gain", ["nan", "inf", "-inf", "abc"])
def test_the_promotion_gate_takes_only_a_finite_gain(gain, capsys) -> None:
    argv = ["--name", "fusion", "--version", "2", "--alias", "production", "--gate"]
    line = _usage_error(promote_model.main, [*argv, "--min-gain", gain], capsys)
    assert "--min-gain" in line


@pytest.mark.parametrize("version", ["0", "-1", "2147483648", "99999999999999999999", "1.5"])
def test_a_promoted_version_is_one_the_registry_can_hold(version, capsys) -> None:
    argv = ["--name", "fusion", "--version", version, "--alias", "production"]
    line = _usage_error(promote_model.main, argv, capsys)
    assert line.startswith("python -m scripts.promote_model: error: argument --version")


@pytest.mark.parametrize("side", ["1", "31", "1025", "100000", "-3"])
def test_the_demo_image_side_is_one_the_model_can_read(side, capsys) -> None:
    line = _usage_error(bootstrap_demo.main, ["--image-size", side], capsys)
    assert "--image-size" in line


def test_the_demo_settings_are_checked_the_same_way(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DEMO_IMAGE_WEIGHTS", "/nonexistent.weights.h5")
    line = _usage_error(bootstrap_demo.main, ["--check-only"], capsys)
    assert "neither 'imagenet', 'none' nor a weights file" in line


@pytest.mark.parametrize("main", [bootstrap_demo.main, train_image_model.main])
def test_a_weights_file_that_does_not_exist_is_refused_at_once(main, tmp_path, capsys) -> None:
    option = "--image-weights" if main is bootstrap_demo.main else "--weights"
    line = _usage_error(main, [option, str(tmp_path / "missing.weights.h5")], capsys)
    assert "neither 'imagenet', 'none' nor a weights file" in line


@pytest.mark.parametrize("value", ["imagenet", "NONE", " none "])
def test_the_named_weights_are_taken_in_any_case(value) -> None:
    from scripts.cli_support import backbone_weights

    assert backbone_weights(value) in {"imagenet", "none"}


def test_a_challenger_that_is_not_a_model_uri_is_an_input_error(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from product_classifier.evaluation import replay_rows

    # The rows are not what is judged here: the URI is refused before they are replayed.
    monkeypatch.setattr(replay_rows, "dataset_test_rows", lambda folder: None)
    status = evaluate_challenger.main(["--challenger", "fusion", "--dataset", str(tmp_path)])
    assert status == 2
    assert capsys.readouterr().err.strip() == (
        "error: The challenger must be a registered version (models:/NAME/VERSION or "
        "models:/NAME@ALIAS), got 'fusion'."
    )


def test_ctrl_c_while_evaluating_is_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    from product_classifier.evaluation import replay_rows

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(replay_rows, "dataset_test_rows", interrupted)
    status = evaluate_challenger.main(
        ["--challenger", "models:/fusion/2", "--dataset", str(tmp_path)]
    )
    assert status == 130
    assert capsys.readouterr().err.strip().splitlines() == [
        "Interrupted: no evaluation was recorded; run the command again."
    ]


@pytest.mark.parametrize("count", ["0", "1000001", "999999999999"])
def test_a_sample_size_out_of_range_is_refused(count, tmp_path, capsys) -> None:
    from scripts import make_sample_dataset

    line = _usage_error(
        make_sample_dataset.main, ["--n-products", count, "--output-dir", str(tmp_path)], capsys
    )
    assert "--n-products" in line
