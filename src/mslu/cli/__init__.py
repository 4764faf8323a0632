"""``mslu`` command line. Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (called with the parsed args).

One error boundary: an expected error (bad input, bad config, missing file, refused pickle, corrupt corpus,
a run stopped by a non-finite loss) is printed as one line ``error: <file or key>: <problem>`` and the
command exits with the code below; anything else is a bug and shows its traceback. ``--debug`` shows the
traceback of every error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pickle
import pkgutil
import sys
import traceback

from mslu import __version__

EXIT_OK = 0
EXIT_SOME_FAILED = 1  # a batch command skipped some bad inputs (each reported) and did the rest
EXIT_BAD_INPUT = 2  # bad input, config or file: nothing was run, or the run stopped at the bad item
EXIT_TRAINING_STOPPED = 3  # a non-finite loss stopped training; the last good checkpoint is kept
EXIT_INTERRUPTED = 130  # Ctrl-C; runs resume with --resume

EXPECTED = (ValueError, OSError, pickle.UnpicklingError)


def is_expected(error: BaseException) -> bool:
    """Errors about the user's input: ValueError / OSError and the error classes mslu defines."""
    return isinstance(error, EXPECTED) or type(error).__module__.startswith("mslu.")


def one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    return " ".join(text.split())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mslu", description="Multimodal sign language pre-training and understanding."
    )
    parser.add_argument("--version", action="version", version=f"mslu {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of every error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        if hasattr(module, "register"):
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_SOME_FAILED
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("error: interrupted (runs continue with --resume)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:
        if not is_expected(e):
            raise  # a bug: the traceback is the report
        if args.debug:
            traceback.print_exc()
        print(f"error: {one_line(e)}", file=sys.stderr)
        return EXIT_TRAINING_STOPPED if type(e).__name__ == "NonFiniteLossError" else EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
