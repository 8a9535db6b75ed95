"""Publication-style exclusion plots (matplotlib Figure objects: no pyplot, no global backend change)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_result", "plot_comparison", "read_curve"]



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
    """Closed polygon (lower edge left to right, upper edge back) of the excluded masses."""
    ok = np.isfinite(lower) & np.isfinite(upper)
    m, lo, hi = masses[ok], lower[ok], upper[ok]
    return np.concatenate([m, m[::-1]]), np.concatenate([lo, hi[::-1]])


def _annulus(ax, outer, inner, **style):
    """Fill the area inside ``outer`` but outside ``inner`` (both PerMassContour)."""
    from matplotlib.path import Path as MplPath
    from matplotlib.patches import PathPatch

    xo, yo = _region(outer.masses, outer.lower, outer.upper)
    xi, yi = _region(inner.masses, inner.lower, inner.upper)
    if xo.size == 0:
        return
    verts = [np.column_stack([xo, yo])]
    if xi.size:
        verts.append(np.column_stack([xi, yi])[::-1])  # opposite orientation: a hole (non-zero winding)
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


def plot_result(result, fh, *, fmt="png", compare=None):
    """Draw the exclusion(s) of a ScanResult into the binary file handle ``fh``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=150)  # renders with Agg on savefig; the caller's backend is untouched
    ax = fig.subplots()
    colours = ["#1f5fa8", "#d2691e", "#2e8b57", "#8b008b"]
    for i, pt in enumerate(result.points):
        c = pt.contour
        x, y = _region(c.masses, c.lower, c.upper)
        if x.size == 0:
            continue
        label = f"{result.experiment.title}, {pt.pot:.2g} POT (N$_{{90}}$ = {pt.n_limit:.2f})"
        ax.fill(x, y, color=colours[i % 4], alpha=0.25 if i == 0 else 0.12, lw=0)
        ax.plot(np.append(x, x[0]), np.append(y, y[0]), color=colours[i % 4], lw=1.6 if i == 0 else 1.2,
                ls="-" if i == 0 else "--", label=label)
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
                ax.plot(np.append(x, x[0]), np.append(y, y[0]), color="k", lw=0.9, ls="--",
                        label=f"expected median (b = {primary.background:.3g})")
    if primary is not None and len(primary.pot_band) == 2:
        for c, ls in zip(primary.pot_band, (":", ":")):
            x, y = _region(c.masses, c.lower, c.upper)
            if x.size:
                ax.plot(np.append(x, x[0]), np.append(y, y[0]), color=colours[0], lw=0.7, ls=ls)
        ax.plot([], [], color=colours[0], lw=0.7, ls=":",
                label=f"POT $\\pm${result.experiment.pot_uncertainty:.0%}")
    if compare is not None:
        curve = read_curve(compare)
        ax.plot(np.append(curve[:, 0], curve[0, 0]), np.append(curve[:, 1], curve[0, 1]), color="k", lw=1.4,
                ls=":", label=f"published: {Path(compare).stem}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m$ [GeV]")
    ax.set_ylabel(result.model.coupling.axis_label)
    ax.set_xlim(result.grid.masses[0], result.grid.masses[-1])
    ax.set_ylim(result.grid.couplings[0], result.grid.couplings[-1])
    ax.grid(True, which="major", alpha=0.3)
    from fipscan.final_states import get_final_state

    labels = [f"${get_final_state(c).label}$" for c in result.channels]
    # at most four final states a line, so that a long --channels all list stays inside the figure
    chans = "\n".join("+".join(labels[i:i + 4]) for i in range(0, len(labels), 4))
    options = model_options_text(result.model)
    ax.set_title(f"{result.model.label} → {chans}: 90% CL exclusion" + (f"\n{options}" if options else ""),
                 fontsize=10 if not options else 9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="upper right")
    else:  # nothing excluded at any POT: say so rather than draw an empty frame
        ax.text(0.5, 0.5, "nothing excluded on this grid", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    fig.savefig(fh, format=fmt)


def plot_comparison(results, fh, *, fmt="png", compare=None):
    """Draw the primary-POT exclusion of each ScanResult in ``results`` (one per experiment, same model)
    on one figure into the binary file handle ``fh``: every experiment's region filled and outlined in
    its own colour, labelled with its title and POT.  ``compare``: a published curve to overlay."""
    from matplotlib.figure import Figure

    from fipscan.errors import InputError

    results = list(results)
    if not results:
        raise InputError("plot_comparison needs at least one scan result")
    if len({r.model.name for r in results}) != 1:
        raise InputError("plot_comparison draws one model at several experiments; got models "
                         + ", ".join(sorted({r.model.name for r in results})))
    fig = Figure(figsize=(6.4, 4.8), dpi=150)
    ax = fig.subplots()
    colours = ["#1f5fa8", "#d2691e", "#2e8b57", "#8b008b", "#b22222", "#008b8b", "#6b6b00", "#444444"]
    drawn = False
    for i, result in enumerate(results):
        if not result.points:
            continue
        pt = result.points[0]
        x, y = _region(pt.contour.masses, pt.contour.lower, pt.contour.upper)
        colour = colours[i % len(colours)]
        label = f"{result.experiment.title}, {pt.pot:.2g} POT"
        if x.size == 0:
            ax.plot([], [], color=colour, lw=1.4, label=label + " (nothing excluded)")
            continue
        ax.fill(x, y, color=colour, alpha=0.18, lw=0)
        ax.plot(np.append(x, x[0]), np.append(y, y[0]), color=colour, lw=1.4, label=label)
        drawn = True
    if compare is not None:
        curve = read_curve(compare)
        ax.plot(np.append(curve[:, 0], curve[0, 0]), np.append(curve[:, 1], curve[0, 1]), color="k", lw=1.4,
                ls=":", label=f"published: {Path(compare).stem}")
    first = results[0]
    lo = min(float(r.grid.masses[0]) for r in results)
    hi = max(float(r.grid.masses[-1]) for r in results)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$m$ [GeV]")
    ax.set_ylabel(first.model.coupling.axis_label)
    ax.set_xlim(lo, hi)
    ax.set_ylim(min(float(r.grid.couplings[0]) for r in results), max(float(r.grid.couplings[-1]) for r in results))
    ax.grid(True, which="major", alpha=0.3)
    options = model_options_text(first.model)
    ax.set_title(f"{first.model.label}: 90% CL exclusions" + (f"\n{options}" if options else ""),
                 fontsize=10 if not options else 9)
    ax.legend(fontsize=7, loc="upper right")
    if not drawn:
        ax.text(0.5, 0.5, "nothing excluded on this grid", transform=ax.transAxes, ha="center", va="center")
    fig.tight_layout()
    fig.savefig(fh, format=fmt)
