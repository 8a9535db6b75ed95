"""The ``fipscan`` command line: thin argument parsing; every computation lives in the API.

Each subcommand module exposes ``register(subparsers)`` which adds its parser(s) and sets
``func`` (a callable taking the parsed namespace and returning an exit code).  Errors the user
can fix (``FipscanError``, ``ValueError``, ``OSError`` on output paths) become one line on stderr
and exit code 2, with no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from fipscan import __version__
from fipscan.errors import FipscanError

#: subcommand modules, in the order they appear in ``fipscan -h``
_SUBCOMMAND_MODULES = (
    "fipscan.cli.scan_cmds",
    "fipscan.cli.stats_cmds",
    "fipscan.cli.spectra_cmds",
    "fipscan.cli.contour_cmds",
    "fipscan.cli.rare_decay_cmds",
    "fipscan.cli.kaon_cmds",
    "fipscan.cli.bounds_cmds",
    "fipscan.cli.combinations_cmds",
)


class _OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (``fipscan <cmd>: error: ...``) and exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        sys.stderr.write(f"{self.prog}: error: {_one_line(message)} (see '{self.prog} -h')\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="fipscan",
        description="Fast, differentiable sensitivity scans for feebly-interacting particles.",
    )
    parser.add_argument("--version", action="version", version=f"fipscan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a subcommand module not written yet
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed its one-line usage error
        return int(exc.code) if exc.code is not None else 0
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except (FipscanError, ValueError) as exc:
        print(f"fipscan: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        print(f"fipscan: error: {_one_line(exc.strerror or exc)}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fipscan: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
