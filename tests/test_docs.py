"""The documentation site builds with Sphinx, warnings as errors, and shows the real content.

One build (``python -m sphinx -W --keep-going -b html -j 1``) of a copy of ``docs/`` in the test's
temporary folder, so that neither the HTML, the doctrees nor the API pages autosummary generates are
written into the checkout.  The notebooks are rendered from their stored outputs (myst-nb with
execution off), never run.  One test item, so that ``pytest -n 2`` does not build the site twice;
~20 s on one core, most of it importing fipscan for autodoc.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _build(tmp: Path) -> Path:
    src = tmp / "src"
    # docs/notebooks is a link to ../notebooks: copy what it points to, not the link
    shutil.copytree(DOCS, src, symlinks=False, ignore=shutil.ignore_patterns("_build", "generated"))
    out = tmp / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", "-j", "1",
           "-d", str(tmp / "doctrees"), str(src), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, timeout=300)
    assert proc.returncode == 0, f"sphinx-build failed ({proc.returncode}):\n{proc.stderr[-6000:]}"
    return out


def _text(page: Path) -> str:
    """The page's visible text on one line: tags dropped, entities decoded, whitespace collapsed."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def _check_api(site: Path) -> None:
    page = site / "api" / "generated" / "fipscan.kernels.decay.html"
    assert 'id="fipscan.kernels.decay.inverse_decay_length"' in page.read_text(encoding="utf-8")
    text = _text(page)
    # the docstring's units and source, as written in kernels/decay.py
    assert "in 1/m for mass m [GeV], momentum p [GeV], width Gamma [GeV]" in text
    assert "PDG RPP, Kinematics review" in text

    page = site / "api" / "generated" / "fipscan.models.dark_photon.html"
    assert 'id="fipscan.models.dark_photon.width_ll"' in page.read_text(encoding="utf-8")
    assert "arXiv:1801.04847" in _text(page)

    # the public surface links to where each name is documented; the kernels have their own tree
    api = (site / "api.html").read_text(encoding="utf-8")
    assert 'href="api/generated/fipscan.scanner.html#fipscan.scanner.scan"' in api
    assert 'href="api/generated/fipscan.kernels.html"' in api


def _check_cli(site: Path) -> None:
    raw = (site / "cli.html").read_text(encoding="utf-8")
    # each subcommand is a level-3 section headed by its name (its options are level 4 below it)
    start = raw.index("<h3>scan<a")
    end = raw.find("<h3>", start + 1)
    scan = raw[start:end if end > 0 else len(raw)]
    assert "<kbd>--experiment</kbd>" in scan
    assert "<kbd>--model</kbd>" in scan
    for sub in ("info", "limit", "contour", "combinations"):
        assert f"<h3>{sub}<a" in raw, f"subcommand {sub!r} missing from the CLI page"


def _check_physics(site: Path) -> None:
    from fipscan.models import list_models

    for name in list_models():
        page = site / "physics" / f"{name}.html"
        assert page.is_file(), f"no physics page for model {name!r} (docs/physics/{name}.md)"
        assert 'class="math' in page.read_text(encoding="utf-8"), f"{name}: no equations"
        assert "References" in _text(page), f"{name}: no references"


def _check_notebooks(site: Path) -> None:
    assert len(NOTEBOOKS) >= 2
    for path in NOTEBOOKS:
        page = site / "notebooks" / f"{path.stem}.html"
        assert page.is_file(), f"no page for {path.name}"
        assert 'class="cell_output' in page.read_text(encoding="utf-8"), f"{path.name}: stored outputs not shown"


def test_docs_build_without_warnings_and_show_the_content(tmp_path):
    site = _build(tmp_path)
    for page in ("index.html", "api.html", "cli.html", "notebooks.html", "physics/index.html"):
        assert (site / page).is_file(), page
    _check_api(site)
    _check_cli(site)
    _check_physics(site)
    _check_notebooks(site)
