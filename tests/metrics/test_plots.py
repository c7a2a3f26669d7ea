"""Plots return Axes with the data drawn (Agg backend, set in tests/conftest.py)."""

import matplotlib
import numpy as np
import pytest

from sklearn_recsys.metrics import plot_exposure, plot_long_tail, plot_precision_recall

matplotlib.use("Agg")
import matplotlib.pyplot as plt


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_precision_recall_curves():
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.1).astype(int)
    good = y + rng.normal(0, 0.5, 300)
    noise = rng.random(300)
    _, ax = plt.subplots()
    out = plot_precision_recall(y, {"good": good, "noise": noise}, ax=ax)
    assert out is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lbl.startswith("good") and "AP" in lbl for lbl in labels)
    assert len(ax.lines) == 3  # two curves + chance level
    assert ax.lines[-1].get_ydata()[0] == pytest.approx(y.mean())
    with pytest.raises(ValueError, match="scores is empty"):
        plot_precision_recall(y, {})


def test_long_tail_curve():
    train = [1] * 6 + [2] * 2 + [3] + [4]
    ax = plot_long_tail(train)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [6, 2, 1, 1])
    assert ax.lines[1].get_xdata()[0] == pytest.approx(2.5)  # head = items 1, 2
    assert plot_long_tail(train, log=True).get_yscale() == "log"


def test_exposure_bars():
    train = [1] * 7 + [2, 3, 4]  # head = {1, 2}
    recs = [[1, 3], [3, 4]]
    ax = plot_exposure(recs, train, k=2)
    heights = [p.get_height() for p in ax.patches]
    # interactions share, items share, recommended share; for head then tail
    assert heights[0:2] == pytest.approx([0.8, 0.2])
    assert heights[2:4] == pytest.approx([0.5, 0.5])
    assert heights[4:6] == pytest.approx([0.25, 0.75])
    ax = plot_exposure(recs, train, k=2, cutoffs=(0.5, 0.8))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["head", "mid", "tail"]
