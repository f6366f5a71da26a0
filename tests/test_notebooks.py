"""The notebooks (notebooks/) executed with nbclient, as a reader runs them: every cell runs, and what
they print and draw is there.  Committed without outputs."""

import glob
import os
import re

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebooks extra (nbclient, ipykernel) is not installed")
nbclient = pytest.importorskip("nbclient", reason="the notebooks extra (nbclient, ipykernel) is not installed")

NOTEBOOKS = sorted(glob.glob(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                          "notebooks", "*.ipynb")))


def _execute(path, tmp_path):
    book = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(book, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in book.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    return text, images


def test_there_are_six_notebooks_without_outputs():
    assert [os.path.basename(p)[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in book.cells
                   if c.cell_type == "code"), path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[os.path.basename(p) for p in NOTEBOOKS])
def test_a_notebook_runs_and_shows_its_results(path, tmp_path):
    text, images = _execute(path, tmp_path)
    name = os.path.basename(path)
    if name.startswith("01"):
        assert "Epoch 15/15" in text and float(re.search(r"test accuracy (\d\.\d+)", text).group(1)) > 0.85
        assert images == 1
    elif name.startswith("02"):
        assert "Total params:" in text and "calls" in text and (images == 1 or "digraph" in text)
    elif name.startswith("03"):
        assert float(re.search(r"test accuracy (\d\.\d+)", text).group(1)) > 0.85 and images == 2
    elif name.startswith("04"):
        assert "test accuracy:" in text and "after reset_states(): 0.0" in text
        losses = [float(v) for v in re.findall(r"mean loss (\d\.\d+)", text)]
        assert len(losses) == 3 and losses[-1] < losses[0]
    elif name.startswith("05"):
        assert "fusion: fused_group" in text and "def step(" in text and "us a call" in text
        assert "NaN/Inf (also in the reference) at Log" in text and "run: 19 calls" in text
    else:
        assert text.count("activation") == 4 and images == 1
