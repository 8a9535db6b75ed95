"""The plots' look: mplhep's ROOT style applied locally, labels with units, legend entries naming the
experiment, POT (×10^n) and CL, and the three file formats a scan writes (png, pdf, svg)."""

import dataclasses
import io
import xml.etree.ElementTree as ET

import matplotlib as mpl
import pytest

from fipscan.models import get_model


@pytest.fixture(scope="module")
def tiny_result():
    """A 10 x 8 BC1 scan on toy yield tables (no generator, no real tables): a few seconds."""
    from fipscan.grid import Grid
    from fipscan.scanner import scan
    from fipscan.testing import toy_tables

    grid = Grid.log(0.01, 1.0, 10, 1e-9, 1e-3, 8)
    return scan("dark-photon", "na62-bd", grid, tables=toy_tables(grid.masses, n_p=8, n_z=6), channels="ee",
                projections=(1e18,), bands=False)


def _texts(fig):
    ax = fig.axes[0]
    legend = ax.get_legend()
    return ax, [t.get_text() for t in legend.get_texts()], legend.get_title().get_text()


def test_a_scan_writes_png_pdf_and_svg_and_may_be_rerun_into_the_same_folder(tiny_result, tmp_path):
    from fipscan.io.results import PLOT_FORMATS, check_output_set_dir

    assert PLOT_FORMATS == ("png", "pdf", "svg")
    out = tmp_path / "out"
    before = dict(mpl.rcParams)
    written = tiny_result.save(out, polygon=False)
    assert dict(mpl.rcParams) == before  # the style is applied around each figure only
    assert {"contour.png", "contour.pdf", "contour.svg"} <= set(written)
    assert (out / "contour.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "contour.pdf").read_bytes()[:5] == b"%PDF-"
    root = ET.parse(out / "contour.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert check_output_set_dir(out) == out.resolve()  # a re-run may replace a set holding contour.svg


def test_the_multi_experiment_comparison_has_the_same_three_formats():
    from fipscan.io.results import COMPARISON_FORMATS
    from fipscan.io.results import PLOT_FORMATS

    assert COMPARISON_FORMATS == PLOT_FORMATS


def test_the_legend_names_experiment_pot_in_powers_of_ten_and_cl(tiny_result):
    from fipscan.plotting import comparison_figure, result_figure

    ax, entries, title = _texts(result_figure(tiny_result))
    assert entries[0] == r"NA62 beam dump, $1.4\times10^{17}$ POT, 90% CL"
    assert any(r"$10^{18}$ POT, 90% CL" in e for e in entries[1:])  # the projection
    assert not any("e+1" in e for e in entries)
    # the model's label (it holds the benchmark) and its interaction term (DarkPhoton.definition)
    assert title.splitlines() == ["BC1 dark photon", get_model("dark-photon").definition]
    assert "e^+e^-" in ax.get_title(loc="left")  # the final states
    assert "fipscan" in {t.get_text() for t in ax.texts}
    _, entries, _ = _texts(comparison_figure([tiny_result]))
    assert entries == [r"NA62 beam dump, $1.4\times10^{17}$ POT, 90% CL"]


def test_axis_labels_carry_units_and_symbols(tiny_result):
    from fipscan.plotting import result_figure

    ax = result_figure(tiny_result).axes[0]
    assert ax.get_ylabel() == r"$\varepsilon$"  # dimensionless: no unit
    assert ax.get_xlabel() == "$m_{A'}$ [GeV]"  # DarkPhoton.symbol
    alp = dataclasses.replace(tiny_result, model=get_model("alp-photon"))
    ax, _, title = _texts(result_figure(alp))
    assert ax.get_ylabel() == r"$g_{a\gamma\gamma}$ [GeV$^{-1}$]"
    assert ax.get_xlabel() == "$m_{a}$ [GeV]"
    assert title.splitlines()[0] == "BC9 photophilic ALP" and "g_{a\\gamma\\gamma}" in title


def test_a_model_with_a_symbol_and_a_definition_shows_them(tiny_result):
    from fipscan.plotting import result_figure

    base = type(get_model("alp-photon"))
    model = type("DefinedALP", (base,), {"symbol": "a", "definition": r"$\mathcal{L} \supset -\frac{g_{a\gamma\gamma}}{4}"
                                                                      r"\,a F\tilde{F}$"})()
    fig = result_figure(dataclasses.replace(tiny_result, model=model))
    ax, _, title = _texts(fig)
    assert ax.get_xlabel() == "$m_{a}$ [GeV]"
    assert title.splitlines() == ["BC9 photophilic ALP", model.definition]
    assert ax.get_title(loc="left").startswith("$a$ →")
    fig.savefig(io.BytesIO(), format="png")  # the mathtext renders


def test_long_option_lists_wrap_inside_the_figure(tiny_result):
    from fipscan.plotting import OPTIONS_WIDTH, result_figure

    model = get_model("dark-scalar", b_production="inclusive", kaon_dump_length=3.0)
    fig = result_figure(dataclasses.replace(tiny_result, model=model,
                                            channels=("ee", "mumu", "pipi", "kk", "pipipi0", "gammagamma")))
    title = fig.axes[0].get_title(loc="left").splitlines()
    assert len(title) >= 4 and all(len(line) <= OPTIONS_WIDTH for line in title[2:])
    assert "production_channels=" in "".join(title)
    fig.canvas.draw()  # the axes with their labels, title and tag stay inside the figure
    box = fig.axes[0].get_tightbbox()
    assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1


def test_the_style_is_local_to_the_plot(tiny_result):
    from fipscan.plotting import hep_style, plot_comparison

    before = dict(mpl.rcParams)
    with hep_style():
        assert mpl.rcParams["xtick.direction"] == "in" and mpl.rcParams["ytick.minor.visible"]
    plot_comparison([tiny_result], io.BytesIO(), fmt="png")
    assert dict(mpl.rcParams) == before


@pytest.mark.parametrize("x,text", [(1.4e17, r"$1.4\times10^{17}$"), (1e18, "$10^{18}$"), (2.5e-3, "$0.0025$"),
                                    (1.45e19, r"$1.45\times10^{19}$"), (5e19, r"$5\times10^{19}$"), (50, "$50$")])
def test_scientific_notation(x, text):
    from fipscan.plotting import sci_tex

    assert sci_tex(x) == text
