"""Cheap checks of command-line arguments, run before anything expensive is imported or computed.

Every subcommand validates all of its arguments and the writability of every output target here,
*before* JAX is imported, a model or a table is built, or a progress line is printed: a refused
invocation costs a fraction of a second and leaves nothing behind.  Nothing in this module imports
JAX (``python -X importtime -m fipscan.cli.main scan --channels MUMU`` shows it).

Each check raises :class:`~fipscan.errors.InputError` with one line naming the argument (as the user
typed it), the value and the rule it broke.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

from fipscan import checks
from fipscan.errors import InputError
from fipscan.grid import MAX_AXIS_POINTS, parse_axis

__all__ = ["output_dir", "output_file", "input_file", "text_file", "final_states", "grid_axis",
           "grid_size", "physical_memory", "pot", "projections", "model_name", "experiment", "fc_counts"]

#: the most (mass, coupling) cells of a grid (the most points of one axis: fipscan.grid.MAX_AXIS_POINTS)
MAX_GRID_CELLS = 20_000_000
#: bytes a scan holds per grid cell (N at each POT, its log, the contours' brackets, the split by final
#: state and production channel: measured ~40 float64 arrays of the grid's shape) and per mass (the
#: yield tables: momentum x angle x decay-cell bins of every channel, ~2 MB a mass at the shipped binning)
BYTES_PER_CELL = 40 * 8
BYTES_PER_MASS = 2_000_000


def _probe_dir(name: str, directory: Path) -> None:
    """Create and remove a file in ``directory`` (os.access is not enough: root, read-only mounts)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".fipscan-write-probe.", dir=directory)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"{name} {directory}: cannot write there ({exc.strerror})") from None


def _existing_ancestor(path: Path) -> Path:
    p = path.absolute()
    while not p.exists():
        if p.parent == p:
            break
        p = p.parent
    return p


def _nonempty(name: str, value) -> Path:
    if value is None or not str(value).strip():
        raise InputError(f"{name} is empty; give a path")
    if "\0" in str(value):
        raise InputError(f"{name} contains a NUL character")
    path = Path(value)
    if path.is_symlink() and not path.exists():
        raise InputError(f"{name} {path} is a dangling symbolic link (to {os.readlink(path)}); "
                         "give a path that exists or a new name")
    return path


def output_dir(name: str, value) -> Path:
    """A folder that exists and is writable, or that can be created (its nearest existing ancestor is
    a writable folder).  Nothing is created here."""
    path = _nonempty(name, value)
    if path.exists():
        if not path.is_dir():
            raise InputError(f"{name} {path} exists and is not a directory")
        _probe_dir(name, path)
        return path
    anc = _existing_ancestor(path)
    if not anc.is_dir():
        raise InputError(f"{name} {path}: {anc} is not a directory")
    _probe_dir(name, anc)
    return path


def output_file(name: str, value, suffixes: tuple[str, ...], what: str = "file") -> Path:
    """A file name with one of ``suffixes`` in an existing, writable folder; not a folder itself."""
    path = _nonempty(name, value)
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{name} must name a {what} ({', '.join('*' + s for s in suffixes)}), got {path}")
    if path.is_dir():
        raise InputError(f"{name} {path} is a directory, not a {what}")
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"{name} {path}: folder {parent} does not exist")
    if path.exists() and not os.access(path, os.W_OK) and os.geteuid() != 0:
        raise InputError(f"{name} {path} exists and is not writable")
    _probe_dir(name, parent)
    return path


def input_file(name: str, value, suffixes: tuple[str, ...] | None = None, what: str = "file") -> Path:
    """An existing, readable regular file (optionally with one of ``suffixes``)."""
    path = _nonempty(name, value)
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise InputError(f"{name} must name a {what} ({', '.join('*' + s for s in suffixes)}), got {path}")
    if not path.exists():
        raise InputError(f"{name} {path} does not exist")
    if path.is_dir():
        raise InputError(f"{name} {path} is a directory, not a {what}")
    if not path.is_file():
        raise InputError(f"{name} {path} is not a regular file (a device or a pipe), not a {what}")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"{name} {path} cannot be read ({exc.strerror})") from None
    return path


def text_file(name: str, value) -> str:
    """The UTF-8 text of an existing readable file; a binary or other-encoded file is named."""
    path = input_file(name, value, what="text file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} {path} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); "
                         "give a text file of two columns: mass, coupling") from None


def final_states(name: str, text):
    """Syntax of a comma-separated final-state list: no empty, unknown or repeated name ("all" passes;
    whether the model and experiment have them is checked once they are loaded)."""
    if text is None:
        return None
    from fipscan.final_states import parse_final_states

    if str(text).strip() == "all":
        return "all"
    try:
        return parse_final_states(text, what=name)
    except InputError as exc:
        message = str(exc)
        raise InputError(message if message.startswith(name) else f"{name}: {message}") from None


# LO:HI:N of a log-spaced axis: one implementation, in fipscan.grid (light: numpy only)
grid_axis = parse_axis


def physical_memory() -> int:
    """Bytes of RAM of this machine (sysconf; 16 GB where it is unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16 * 2**30


def grid_size(n_masses: int, n_couplings: int, n_pot: int = 1) -> None:
    """Refuse a grid whose arrays cannot fit in memory, with the estimate."""
    cells = n_masses * n_couplings
    need = cells * BYTES_PER_CELL * max(1, n_pot) + n_masses * BYTES_PER_MASS
    have = physical_memory()
    if cells > MAX_GRID_CELLS or need > have // 2:
        raise InputError(f"--masses x --couplings = {n_masses} x {n_couplings} = {cells} cells would need "
                         f"~{need / 2**30:.1f} GiB (this machine has {have / 2**30:.1f} GiB; at most "
                         f"{MAX_GRID_CELLS} cells); use fewer points")


MAX_POT = checks.MAX_POT


def pot(name: str, value):
    """Protons on target: positive, finite and at most MAX_POT."""
    if value is None:
        return None
    x = checks.positive(name, value)
    if x > MAX_POT:
        raise InputError(f"{name} {x!r} is above {MAX_POT:g} protons on target; give a physical POT")
    return x


def projections(name: str, values) -> tuple[float, ...]:
    """Extra POT values: each valid, no two equal or written to the same file name (contour_pot<P>.csv)."""
    out, names = [], {}
    for v in values or ():
        x = pot(name, v)
        fname = pot_file_name(x)
        if fname in names:
            raise InputError(f"{name} values {names[fname]!r} and {x!r} would both be written to {fname}; "
                             "give distinct POT values (they are named to 2 significant digits)")
        names[fname] = x
        out.append(x)
    return tuple(out)


def pot_file_name(p: float) -> str:
    """File name of the contour at a further POT (shared with fipscan.io.results)."""
    from fipscan.io.results import pot_file_name as name

    return name(p)


def experiment(name: str, value) -> None:
    """An experiment name or TOML file: a folder is named as such (not as an unknown experiment); the
    file itself is validated by fipscan.experiments.load_experiment."""
    from fipscan.experiments import list_experiments

    if value is not None and str(value) not in list_experiments() and Path(str(value)).is_dir():
        raise InputError(f"{name} {value} is a directory, not an experiment TOML file")


def beam_dump_experiment(name: str, value, command: str):
    """The experiment ``value`` loaded (fipscan.experiments.load_experiment), refused in one line when it is a
    kaon-mode experiment: ``command`` works on a beam dump's decay volume only."""
    from fipscan.experiments import load_experiment

    experiment(name, value)
    exp = load_experiment(value)
    if getattr(exp, "kind", "beam-dump") == "kaon":
        raise InputError(f"{name} {exp.name} is a kaon-mode experiment; 'fipscan {command}' works on beam-dump "
                         "experiments (use 'fipscan scan' or 'fipscan kaon-limits' for the kaon mode)")
    return exp


def fc_counts(observed: int | None, backgrounds) -> None:
    """Counts that --method fc can take: ``observed`` and every (background, where) pair at most
    FC_MAX_COUNT; the message names the CLI option (``where`` says at which POT, if scaled)."""
    from fipscan.stats.limits import FC_MAX_COUNT

    rule = (f"is above {FC_MAX_COUNT}, the largest count --method fc (Feldman-Cousins) builds its belt for; "
            "use --method cls (asymptotically the same there)")
    if observed is not None and observed > FC_MAX_COUNT:
        raise InputError(f"--observed {observed} {rule}")
    for b, where in backgrounds:
        if b is not None and b > FC_MAX_COUNT:
            raise InputError(f"--background {b!r}{where} {rule}")


def model_name(name: str, value: str) -> str:
    """A registered model name or module:Class (the module is imported later, with JAX)."""
    from fipscan.models import list_models

    if value in list_models() or (":" in str(value) and all(str(value).partition(":")[::2])):
        return value
    raise InputError(f"{name}: unknown model '{value}' (known: {', '.join(list_models())}; or module:Class)")
