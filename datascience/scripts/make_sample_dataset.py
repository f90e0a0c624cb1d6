"""Generate a synthetic dataset in the original Rakuten format (X.csv, y.csv, images/).

Run from ``datascience/``::

    python -m scripts.make_sample_dataset --output-dir var/data/sample --n-products 3000 --seed 42
"""

import argparse
import sys
from collections.abc import Sequence

from product_classifier.data.output_folder import OutputFolderError
from product_classifier.data.parallel import default_workers
from product_classifier.synthetic.generator import (
    DEFAULT_N_PRODUCTS,
    DEFAULT_SEED,
    write_sample_dataset,
)
from scripts.cli_support import (
    MAX_SAMPLE_PRODUCTS,
    bounded_int,
    interrupted,
    root_path,
    seed,
    start_command,
    worker_count,
)


def sample_size(text: str) -> int:
    """Argparse type: a number of products from 1 to :data:`MAX_SAMPLE_PRODUCTS`."""
    return bounded_int(text, 1, MAX_SAMPLE_PRODUCTS)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scripts.make_sample_dataset",
        description=(
            "Write a synthetic product dataset in the original Rakuten format: X.csv (designation, "
            "description, productid, imageid), y.csv (prdtypecode) and images/ "
            "(500x500 JPEGs named image_{imageid}_product_{productid}.jpg). French titles and "
            "descriptions share vocabulary between related categories, about 35% of descriptions "
            "are empty and others carry HTML; categories follow the real class imbalance; images "
            "depend on the category, with noise and white margins. The same seed always gives the "
            "same files."
        ),
        epilog="Relative paths are resolved from the repository root, not the current folder.",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        type=root_path,
        required=True,
        help="folder to create (must not exist unless --overwrite); written atomically",
    )
    parser.add_argument(
        "--n-products",
        metavar="N",
        type=sample_size,
        default=DEFAULT_N_PRODUCTS,
        help=f"number of products, 1 to {MAX_SAMPLE_PRODUCTS:,} (default: {DEFAULT_N_PRODUCTS})",
    )
    parser.add_argument(
        "--seed",
        metavar="S",
        type=seed,
        default=DEFAULT_SEED,
        help=f"random seed (default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        type=worker_count,
        default=default_workers(),
        help="processes drawing images (default: the number of CPUs, %(default)s here)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace the output folder if it exists"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; return the process exit code."""
    args = build_parser().parse_args(argv)
    start_command()
    try:
        summary = write_sample_dataset(
            args.output_dir,
            args.n_products,
            args.seed,
            workers=args.workers,
            overwrite=args.overwrite,
        )
    except KeyboardInterrupt:
        return interrupted()
    except OutputFolderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"Wrote {summary.n_products} products ({summary.empty_descriptions} empty descriptions) "
        f"to {summary.output_dir} in {summary.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
