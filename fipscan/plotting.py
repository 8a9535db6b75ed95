"""Publication-style exclusion plots (matplotlib Figure objects: no pyplot, no global backend change),
in mplhep's experiment-neutral ROOT style applied locally (:func:`hep_style`): the caller's rcParams
are left as they were."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

__all__ = ["plot_result", "plot_comparison", "result_figure", "comparison_figure", "read_curve", "draw_bounds",
           "hep_style", "sci_tex", "combinations_figure", "combinations_acceptance_figure"]


def model_options_text(model, width: int = 90) -> str:
    """The model's options that differ from their defaults, "key=value, ..." (a tuple joined by commas;
    cut to ``width`` characters with an ellipsis), for plot titles; "" for a model with default options.
    Not a dataclass (a user's model): ""."""
    import dataclasses

    if not dataclasses.is_dataclass(model):
        return ""
    parts = []
    for f in dataclasses.fields(model):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        value = getattr(model, f.name)
        if value == default:
            continue
        text = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else f"{value:g}" if isinstance(
            value, float) else str(value)
        parts.append(f"{f.name}={text}")
    parts.sort(key=lambda t: t.startswith("production_channels="))  # the long list last
    out = ", ".join(parts)
    return out if len(out) <= width else out[: width - 1] + "…"

def read_curve(path) -> np.ndarray:
    """A published curve: two whitespace- or comma-separated columns (mass [GeV], coupling); '#' comments."""
    from fipscan.errors import InputError

    rows = []
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise InputError(f"cannot read comparison curve {path}: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].replace(",", " ").strip()
        if not line:
            continue
        try:
            m, g = (float(x) for x in line.split()[:2])
        except ValueError:
            if rows:
                raise InputError(f"malformed line {number} in comparison curve {path}: '{line}'") from None
            continue  # a header line
        if not (np.isfinite(m) and np.isfinite(g) and m > 0 and g > 0):
            raise InputError(f"comparison curve {path} line {number}: mass and coupling must be finite and "
                             f"positive (the plot is log-log), got '{line}'")
        rows.append((m, g))
    if len(rows) < 2:
        raise InputError(f"comparison curve {path} has fewer than two points")
    return np.asarray(rows)


def _region(masses, lower, upper):
    """The excluded region as closed polygons (lower edge left to right, upper edge back, first vertex
    repeated), one per run of consecutive excluded masses, joined by NaN separators: masses without an
    excluded interval between two runs (e.g. the pi0 gap of a missing-mass search) stay open."""
    ok = np.isfinite(lower) & np.isfinite(upper)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return np.zeros(0), np.zeros(0)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    xs, ys = [], []
    for r in runs:
        m, lo, hi = masses[r], lower[r], upper[r]
        xs += [np.concatenate([m, m[::-1], m[:1]]), [np.nan]]
        ys += [np.concatenate([lo, hi[::-1], lo[:1]]), [np.nan]]
    return np.concatenate(xs[:-1]), np.concatenate(ys[:-1])


def _parts(x, y):
    """The NaN-separated polygons of :func:`_region` as a list of (x, y)."""
    out = []
    for a, b in zip(np.split(x, np.flatnonzero(np.isnan(x))), np.split(y, np.flatnonzero(np.isnan(x)))):
        keep = np.isfinite(a) & np.isfinite(b)
        if keep.any():
            out.append((a[keep], b[keep]))
    return out


def _fill(ax, x, y, **style):
    """Fill every polygon of a :func:`_region`."""
    for a, b in _parts(x, y):
        ax.fill(a, b, **style)


def _annulus(ax, outer, inner, **style):
    """Fill the area inside ``outer`` but outside ``inner`` (both PerMassContour)."""
    from matplotlib.path import Path as MplPath
    from matplotlib.patches import PathPatch

    xo, yo = _region(outer.masses, outer.lower, outer.upper)
    xi, yi = _region(inner.masses, inner.lower, inner.upper)
    if xo.size == 0:
        return
    verts = [np.column_stack([a, b]) for a, b in _parts(xo, yo)]
    # opposite orientation: holes (non-zero winding)
    verts += [np.column_stack([a, b])[::-1] for a, b in _parts(xi, yi)]
    codes = []
    for v in verts:
        c = np.full(len(v), MplPath.LINETO)
        c[0] = MplPath.MOVETO
        codes.append(c)
    path = MplPath(np.concatenate(verts), np.concatenate(codes))
    ax.add_patch(PathPatch(path, lw=0, **style))


def _same(a, b) -> bool:
    return np.allclose(np.nan_to_num(a.lower), np.nan_to_num(b.lower)) and \
        np.allclose(np.nan_to_num(a.upper), np.nan_to_num(b.upper))


#: style of the existing bounds drawn under fipscan's regions (grey, thin outline, below everything else)
BOUNDS_STYLE = dict(facecolor="0.88", edgecolor="0.55", lw=0.5, zorder=0.4)  # opaque: overlapping bounds read as one union


def _bound_curves(bounds, model):
    """``bounds`` (fipscan.bounds.BoundCurve objects or paths, checked against ``model``) as BoundCurves."""
    from fipscan.bounds import BoundCurve, load_bounds

    return [b if isinstance(b, BoundCurve) else load_bounds(b, model) for b in (bounds or ())]


def draw_bounds(ax, bounds) -> None:
    """Draw existing exclusion curves (fipscan.bounds.BoundCurve) on ``ax`` under everything else: a grey
    filled region with a thin outline and a short label each, clipped to the axes.  Call after the axis
    limits are set (a region open upwards is filled to above the top of the axes)."""
    from matplotlib.patches import Polygon

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    for curve in bounds:
        m, g = np.asarray(curve.masses, float), np.asarray(curve.couplings, float)
        if curve.region == "above":  # the lower edge of a region open upwards: close it above the axes
            top = max(y1, float(g.max())) * 10.0
            m, g = np.concatenate([m, [m[-1], m[0]]]), np.concatenate([g, [top, top]])
        patch = Polygon(np.column_stack([m, g]), closed=True, clip_on=True, **BOUNDS_STYLE)
        ax.add_patch(patch)
        inside = (m >= x0) & (m <= x1) & (g >= y0) & (g <= y1)
        if inside.any():  # the label at the log-space centre of the vertices in view
            lx, ly = np.exp(np.log(m[inside]).mean()), np.exp(np.log(g[inside]).mean())
            ax.text(lx, ly, curve.label, fontsize=6, color="0.25", ha="center", va="center", zorder=0.5,
                    clip_on=True)


# ------------------------------------------------------------------------------------------- the look
#: figure size [inch] and resolution of every plot (matplotlib's default size: one column of a page)
FIGSIZE, DPI = (6.4, 4.8), 150

#: rcParams laid over mplhep's ROOT style (the experiment-neutral HEP look: ticks inside on all four
#: sides, minor ticks, axis labels at the ends of the axes, TeX Gyre Heros).  Its sizes are for a
#: 10 x 10 inch canvas; these keep its look at FIGSIZE with text a printed page can read.
STYLE_OVERRIDES = {
    "figure.figsize": FIGSIZE, "figure.dpi": DPI, "savefig.dpi": DPI,
    "font.size": 10.0, "axes.titlesize": 9.0, "axes.labelsize": 11.0,
    "xtick.labelsize": 9.0, "ytick.labelsize": 9.0, "legend.fontsize": 7.5, "legend.title_fontsize": 7.5,
    "axes.linewidth": 1.0,
    "xtick.major.size": 6.0, "xtick.minor.size": 3.0, "ytick.major.size": 6.0, "ytick.minor.size": 3.0,
    "xtick.major.width": 0.8, "xtick.minor.width": 0.6, "ytick.major.width": 0.8, "ytick.minor.width": 0.6,
    "xtick.major.pad": 4.0, "ytick.major.pad": 4.0,
    # a legend over grey bounds and filled regions needs a backdrop to be read
    "legend.frameon": True, "legend.framealpha": 0.85, "legend.facecolor": "white", "legend.edgecolor": "none",
    "grid.alpha": 0.3, "grid.linestyle": ":",
    "svg.hashsalt": "fipscan",  # the same SVG ids on every run (reproducible files)
}

#: the Petroff colour sequence (distinguishable for colour-blind readers; the palette the HEP
#: experiments adopted) without its greys, which are the existing bounds' colour here
COLOURS = ("#3f90da", "#ffa90e", "#bd1f01", "#832db6", "#a96b59", "#e76300", "#b9ac70", "#92dadd")


def hep_style():
    """A context manager applying the plots' style (mplhep's ROOT style with :data:`STYLE_OVERRIDES`)
    for the figure built and saved inside it; the caller's rcParams are restored on exit."""
    import matplotlib as mpl
    import mplhep  # imported when a plot is drawn, not with fipscan (it brings pyplot along)

    return mpl.style.context([mplhep.style.ROOT, STYLE_OVERRIDES])


def sci_tex(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits in mathtext scientific notation: 1.4e17 -> r"$1.4\\times10^{17}$",
    1e18 -> "$10^{18}$", 50 -> "$50$"."""
    text = f"{float(x):.{digits}g}"
    if "e" not in text:
        return f"${text}$"
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return f"${mantissa[:-1]}{power}$"
    return f"${mantissa}\\times{power}$"


def cl_text(result) -> str:
    """The confidence level of a scan, "90% CL" (its input ``cl``, else the experiment's)."""
    inputs = getattr(result, "inputs", None) or {}
    cl = inputs.get("cl") or getattr(result.experiment, "cl", None) or 0.9
    return f"{100 * float(cl):.3g}% CL"


def point_label(result, pot: float) -> str:
    """A legend entry: experiment, exposure and CL, e.g. "NA62 beam dump, 1.4×10¹⁷ POT, 90% CL" (mathtext;
    a kaon-mode experiment counts K+ decays: its ``exposure_unit``)."""
    unit = getattr(result.experiment, "exposure_unit", "POT")
    return f"{result.experiment.title}, {sci_tex(pot)} {unit}, {cl_text(result)}"


def _math(text) -> str:
    """``text`` as a mathtext fragment without its dollars."""
    return str(text).strip().strip("$")


def mass_label(model) -> str:
    """The x-axis label: "$m_{A'}$ [GeV]" when the model has a particle ``symbol`` (LaTeX), else "$m$ [GeV]"."""
    symbol = getattr(model, "symbol", None)
    return f"$m_{{{_math(symbol)}}}$ [GeV]" if symbol else r"$m$ [GeV]"


def model_caption(model) -> str:
    """The model's name on a plot: its label, after its benchmark name unless the label holds it, and on
    a second line its ``definition`` (e.g. the interaction term, mathtext) when the model gives one."""
    label = str(getattr(model, "label", "") or getattr(model, "name", ""))
    benchmark = str(getattr(model, "benchmark", "") or "")
    head = label if not benchmark or benchmark in label else f"{benchmark} {label}"
    definition = getattr(model, "definition", None)
    return f"{head}\n{definition}" if definition else head


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ~``width`` characters, broken after commas (a list of options)."""
    lines, line = [], ""
    for token in re.split(r"(?<=,)", text):
        if line and len(line) + len(token) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    return lines + [line.rstrip()] if line else lines


#: options lines under a plot's title: at most this many characters a line, and this many lines
OPTIONS_WIDTH, OPTIONS_LINES = 70, 3


def _title(ax, first: str, model) -> None:
    """The title, left-aligned over the axes: ``first`` and the model's non-default options wrapped
    (:func:`model_options_text`), with a small italic "fipscan" on the right."""
    options = _wrap(model_options_text(model, width=OPTIONS_WIDTH * OPTIONS_LINES), OPTIONS_WIDTH)
    ax.set_title("\n".join([first, *options]), loc="left", fontsize=9 if not options else 8, linespacing=1.3)
    ax.text(1.0, 1.012, "fipscan", transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
            style="italic", color="0.35")


def _axes(ax, model, masses, couplings) -> None:
    """Log axes, their labels (mass with the particle's symbol; the coupling with its unit) and limits."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(mass_label(model))
    ax.set_ylabel(model.coupling.axis_label)
    ax.set_xlim(*masses)
    ax.set_ylim(*couplings)
    ax.grid(True, which="major")


def _outline(ax, x, y, **style):
    return ax.plot(np.append(x, x[0]), np.append(y, y[0]), **style)


def _published(ax, compare):
    curve = read_curve(compare)
    _outline(ax, curve[:, 0], curve[:, 1], color="k", lw=1.4, ls=":", label=f"published: {Path(compare).stem}")


def result_figure(result, *, compare=None, bounds=None):
    """The exclusion plot of a ScanResult as a matplotlib Figure (no pyplot): the region at each POT
    (the primary one filled and solid, projections dashed), the expected ±1σ/±2σ bands and median, the
    POT-uncertainty band, a published curve (``compare``) and existing bounds in grey (``bounds``).
    Build it inside :func:`hep_style` to keep its look when saving it yourself."""
    from matplotlib.figure import Figure

    from fipscan.final_states import get_final_state

    with hep_style():
        fig = Figure(figsize=FIGSIZE, dpi=DPI)  # renders with Agg on savefig; the caller's backend is untouched
        ax = fig.subplots()
        for i, pt in enumerate(result.points):
            x, y = _region(pt.contour.masses, pt.contour.lower, pt.contour.upper)
            if x.size == 0:
                continue
            colour = COLOURS[i % len(COLOURS)]
            _fill(ax, x, y, color=colour, alpha=0.3 if i == 0 else 0.12, lw=0)
            ax.plot(x, y, color=colour, lw=1.8 if i == 0 else 1.3, ls="-" if i == 0 else "--",
                    label=point_label(result, pt.pot))
        primary = result.points[0] if result.points else None
        if primary is not None and primary.expected:
            exp = primary.expected
            for lo, hi, colour, name in (("-2", "+2", "#ffdd44", r"expected $\pm2\sigma$"),
                                         ("-1", "+1", "#44bb44", r"expected $\pm1\sigma$")):
                if lo in exp and hi in exp and not _same(exp[lo][1], exp[hi][1]):
                    _annulus(ax, exp[lo][1], exp[hi][1], color=colour, alpha=0.45, label=name)
            if "0" in exp:
                med = exp["0"][1]
                x, y = _region(med.masses, med.lower, med.upper)
                if x.size:
                    ax.plot(x, y, color="k", lw=0.9, ls="--",
                            label=f"expected median ($b$ = {sci_tex(primary.background)})")
        if primary is not None and len(primary.pot_band) == 2:
            for c in primary.pot_band:
                x, y = _region(c.masses, c.lower, c.upper)
                if x.size:
                    ax.plot(x, y, color=COLOURS[0], lw=0.7, ls=":")
            ax.plot([], [], color=COLOURS[0], lw=0.7, ls=":",
                    label=f"{getattr(result.experiment, 'exposure_unit', 'POT')} "
                          f"$\\pm${result.experiment.pot_uncertainty:.0%}")
        _draw_model_bands(ax, primary)
        if compare is not None:
            _published(ax, compare)
        _axes(ax, result.model, (result.grid.masses[0], result.grid.masses[-1]),
              (result.grid.couplings[0], result.grid.couplings[-1]))
        draw_bounds(ax, _bound_curves(bounds, result.model))
        labels = [_fs_tex(c) for c in result.channels]
        # at most four final states a line, so that a long --channels all list stays inside the figure
        chans = "\n".join(" + ".join(labels[i:i + 4]) for i in range(0, len(labels), 4))
        symbol = getattr(result.model, "symbol", None)
        head = f"${_math(symbol)}$" if symbol else (getattr(result.model, "benchmark", "") or result.model.label)
        _title(ax, f"{head} → {chans}", result.model)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper right", title=model_caption(result.model), alignment="left")
        else:  # nothing excluded at any POT: say so rather than draw an empty frame
            ax.text(0.5, 0.5, "nothing excluded on this grid", transform=ax.transAxes, ha="center", va="center")
        fig.tight_layout()
    return fig


def plot_result(result, fh, *, fmt="png", compare=None, bounds=None):
    """Draw the exclusion(s) of a ScanResult (:func:`result_figure`) into the binary file handle ``fh`` in
    format ``fmt`` ("png", "pdf", "svg", ...).  ``bounds``: existing exclusion curves
    (fipscan.bounds.BoundCurve or files) drawn in grey under the scan's regions."""
    with hep_style():
        result_figure(result, compare=compare, bounds=bounds).savefig(fh, format=fmt)


def write_figure(figure_fn, write, formats):
    """Build a figure once (``figure_fn()`` -> Figure, in the plots' style) and save it in each of
    ``formats`` through ``write(fmt, save)``, where ``save(fh)`` writes the figure into a binary file
    handle (the caller's atomic writer).  Returns {fmt: write's result}.  One figure for every format:
    building it costs as much as one rendering."""
    out = {}
    with hep_style():
        fig = figure_fn()
        for fmt in formats:
            out[fmt] = write(fmt, lambda fh, fmt=fmt: fig.savefig(fh, format=fmt))
    return out


def comparison_figure(results, *, compare=None, bounds=None):
    """The primary-POT exclusion of each ScanResult in ``results`` (one per experiment, same model) on
    one Figure: every experiment's region filled and outlined in its own colour, labelled with its
    title, POT and CL.  ``compare``: a published curve to overlay; ``bounds``: existing exclusion
    curves (fipscan.bounds.BoundCurve or files) drawn in grey under them."""
    from matplotlib.figure import Figure

    from fipscan.errors import InputError

    results = list(results)
    if not results:
        raise InputError("plot_comparison needs at least one scan result")
    if len({r.model.name for r in results}) != 1:
        raise InputError("plot_comparison draws one model at several experiments; got models "
                         + ", ".join(sorted({r.model.name for r in results})))
    with hep_style():
        fig = Figure(figsize=FIGSIZE, dpi=DPI)
        ax = fig.subplots()
        drawn = False
        for i, result in enumerate(results):
            if not result.points:
                continue
            pt = result.points[0]
            x, y = _region(pt.contour.masses, pt.contour.lower, pt.contour.upper)
            colour = COLOURS[i % len(COLOURS)]
            label = point_label(result, pt.pot)
            if x.size == 0:
                ax.plot([], [], color=colour, lw=1.6, label=label + " (nothing excluded)")
                continue
            _fill(ax, x, y, color=colour, alpha=0.2, lw=0)
            ax.plot(x, y, color=colour, lw=1.6, label=label)
            drawn = True
        if compare is not None:
            _published(ax, compare)
        first = results[0]
        _axes(ax, first.model,
              (min(float(r.grid.masses[0]) for r in results), max(float(r.grid.masses[-1]) for r in results)),
              (min(float(r.grid.couplings[0]) for r in results), max(float(r.grid.couplings[-1]) for r in results)))
        draw_bounds(ax, _bound_curves(bounds, first.model))
        caption = model_caption(first.model)
        head, _, definition = caption.partition("\n")
        _title(ax, f"{head}: exclusions", first.model)
        ax.legend(loc="upper right", title=definition or None, alignment="left")
        if not drawn:
            ax.text(0.5, 0.5, "nothing excluded on this grid", transform=ax.transAxes, ha="center", va="center")
        fig.tight_layout()
    return fig


def plot_comparison(results, fh, *, fmt="png", compare=None, bounds=None):
    """Draw :func:`comparison_figure` of ``results`` into the binary file handle ``fh`` in format ``fmt``."""
    with hep_style():
        comparison_figure(results, compare=compare, bounds=bounds).savefig(fh, format=fmt)


#: hatch and colour of the model bands (fipscan.bands) on the plot: production, decay
MODEL_BAND_STYLES = {"production": dict(hatch="////", edgecolor="#7a3f9d"),
                     "decay": dict(hatch="\\\\", edgecolor="#b05a00")}


def _draw_model_bands(ax, point) -> None:
    """The model bands of a ScanPoint (``point.model_bands``: production, decay; fipscan.bands) as hatched
    areas between their outer and inner edges, labelled "production model (N variations)"; nothing for
    a band without variations or whose edges coincide."""
    for name, band in (getattr(point, "model_bands", {}) if point is not None else {}).items():
        if not band.variations or (_same(band.outer, band.inner)
                                   and np.array_equal(band.outer.excluded, band.inner.excluded)):
            continue
        style = MODEL_BAND_STYLES.get(name, dict(hatch="xx", edgecolor="0.3"))
        _annulus(ax, band.outer, band.inner, facecolor="none", alpha=0.8, label=band.title, zorder=1.5, **style)


# ------------------------------------------------------------------------------- hadronic combinations
def _fs_tex(name) -> str:
    """The mathtext label of a registered final state, or of a kaon-mode signature ("invisible": X escapes)."""
    from fipscan.experiments.kaon import SIGNATURE_LABELS
    from fipscan.final_states import FINAL_STATES, get_final_state

    if name not in FINAL_STATES and name in SIGNATURE_LABELS:
        return f"${SIGNATURE_LABELS[name]}$"
    return f"${get_final_state(name).label}$"


def _log_axes(ax, labelsize) -> None:
    """Log-log axes with labels at the decades only (minor labels overlap on small panels)."""
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_locator(LogLocator(numticks=5))
    ax.tick_params(labelsize=labelsize)


def _combination_colours(results) -> dict:
    """(parent, mechanism) -> a colour of :data:`COLOURS`, the same in every panel."""
    keys = list(dict.fromkeys((r.combination.parent, r.combination.mechanism) for r in results))
    return {k: COLOURS[i % len(COLOURS)] for i, k in enumerate(keys)}


def combinations_figure(results, experiment):
    """N_exp(M_X, Gamma_X) of every combination (fipscan.combinations.CombinationResult), one panel each (six
    per row): log10 N as colour (eight decades below the largest N of all), the 90% CL region's edge as a
    white line, titled
    "parent, mechanism: X -> final state"; the experiment and POT in the figure title."""
    from matplotlib.figure import Figure

    results = list(results)
    ncol = min(6, len(results))
    nrow = -(-len(results) // ncol)
    fig = Figure(figsize=(2.7 * ncol + 1.0, 2.3 * nrow + 0.8), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrow, ncol, squeeze=False)).ravel()
    top = max(float(np.log10(max(r.events.max(), 1e-300))) for r in results)
    top = math.ceil(top)  # eight decades below the largest N_exp of all combinations
    mesh = None
    for ax, r in zip(axes, results):
        c = r.combination
        with np.errstate(divide="ignore"):
            logn = np.log10(np.clip(r.events, 1e-300, None))
        mesh = ax.pcolormesh(r.masses, r.widths, logn.T, vmin=top - 8, vmax=top, cmap="viridis", shading="auto",
                             rasterized=True)
        if np.nanmax(r.events) > r.n_limit:
            ax.contour(r.masses, r.widths, r.events.T, levels=[r.n_limit], colors="white", linewidths=1.0)
        _log_axes(ax, 6)
        ax.set_title(f"{c.parent}, {c.mechanism}: X$\\to${_fs_tex(c.final_state)}", fontsize=6.5)
        ax.set_xlabel(r"$M_X$ [GeV]", fontsize=7)
        ax.set_ylabel(r"$\Gamma_X$ [GeV]", fontsize=7)
    for ax in axes[len(results):]:
        ax.set_visible(False)
    if mesh is not None:
        bar = fig.colorbar(mesh, ax=axes[:len(results)].tolist(), shrink=0.6)
        bar.set_label(r"$\log_{10} N_\mathrm{exp}$ (BR = 1, $\chi$ at $C_\mathrm{ref}$)", fontsize=8)
    fig.suptitle(f"{experiment.title}, {sci_tex(experiment.pot)} POT: $N_\\mathrm{{exp}}$ and the 90% CL region "
                 "per production $\\times$ decay combination", fontsize=9)
    return fig


def combinations_acceptance_figure(results, experiment):
    """Per final state (one row each): A_acc . A_trig given a decay in the fiducial volume (left) and the
    relative mass resolution sigma_M / M_X (right) versus M_X, one line per (parent, mechanism)."""
    from matplotlib.figure import Figure

    results = list(results)
    states = list(dict.fromkeys(r.combination.final_state for r in results))
    fig = Figure(figsize=(9.0, 2.2 * len(states) + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(len(states), 2, squeeze=False)
    colours = _combination_colours(results)
    styles = ("-", "--", ":", "-.")
    for row, fs in zip(axes, states):
        for i, r in enumerate(x for x in results if x.combination.final_state == fs):
            seen = r.acceptance > 0
            key = (r.combination.parent, r.combination.mechanism)
            label = f"{key[0]}, {key[1]}"
            colour = colours[key]
            style = styles[list(colours).index(key) // len(COLOURS) % len(styles)]
            row[0].plot(r.map_masses[seen], (r.acceptance * r.efficiency)[seen], color=colour, ls=style, label=label)
            if np.any(r.resolution[seen] > 0):
                row[1].plot(r.map_masses[seen], (r.resolution / r.map_masses)[seen], color=colour, ls=style,
                            label=label)
        if not row[1].lines:
            row[1].text(0.5, 0.5, "mass resolution not computed", transform=row[1].transAxes, ha="center",
                        fontsize=8)
        row[0].set_ylabel(r"$A_\mathrm{acc}A_\mathrm{trig}$", fontsize=8)
        row[1].set_ylabel(r"$\sigma_M / M_X$", fontsize=8)
        for ax in row:
            _log_axes(ax, 7)
            ax.set_title(f"X$\\to${_fs_tex(fs)}", fontsize=8)
        row[0].legend(fontsize=5.5, loc="best")
    for ax in axes[-1]:
        ax.set_xlabel(r"$M_X$ [GeV]", fontsize=8)
    fig.suptitle(f"{experiment.title}: acceptance given a decay in the fiducial volume (long-lived limit) "
                 "and mass resolution", fontsize=9)
    return fig

