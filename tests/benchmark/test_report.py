"""The case-study report: one self-contained HTML file with every section."""

import base64
import re

import pytest

from sklearn_recsys.benchmark import load_benchmark_data, make_report
from sklearn_recsys.benchmark._report import _lorenz, _recall_by_bucket
from sklearn_recsys.cli import main

from .conftest import OWN_ARGS


@pytest.fixture(scope="module")
def page(own_log):
    data = load_benchmark_data(
        own_log[0],
        user_col="customer",
        item_col="sku",
        time_col="ts",
        label="outcome",
        positive="bought",
    )
    return make_report(data, ["popularity"], baseline="logistic", n_seeds=3, n_boot=50)


def test_report_has_every_section_and_is_self_contained(page):
    for title in (
        "1. The data",
        "2. Strategies",
        "3. Precision-recall",
        "4. Recall per item",
        "5. Calibration",
        "6. Before / after",
    ):
        assert title in page
    for row in (
        "rows (train / test)",
        "imbalance ratio",
        "Gini of item popularity",
        "test rows on cold items",
        "training rows purged",
    ):
        assert row in page
    # no external resource: every image is an embedded, decodable PNG
    assert "http://" not in page and "https://" not in page and "<script" not in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 4  # Lorenz curve, PR curves, popularity buckets, calibration
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    # three seeds per strategy; deterministic ones honestly show no spread
    assert page.count("<td>3</td>") == 2 and "\u00b1 0.0000" in page
    # the baseline is added to the strategies and compared with the best other one; the
    # popularity floor does not beat logistic regression, and the report says so
    assert "baseline: logistic" in page and "best: popularity" in page
    assert "Nothing beats the baseline beyond the noise" in page


def test_lorenz_and_gini():
    x, y, gini = _lorenz([1, 1, 1, 1])
    assert gini == pytest.approx(0.0) and y[-1] == pytest.approx(1.0)
    _, _, gini = _lorenz([0, 0, 0, 10])
    assert gini == pytest.approx(0.75)


def test_recall_by_bucket_counts_positives_per_bucket(own_log):
    data = load_benchmark_data(
        own_log[0],
        user_col="customer",
        item_col="sku",
        time_col="ts",
        label="outcome",
        positive="bought",
    )
    y = data.y_test.to_numpy()
    perfect = _recall_by_bucket(data, {"oracle": y.astype(float), "inverse": -y.astype(float)})
    assert (perfect.loc["oracle"] == 1).all() and (perfect.loc["inverse"] == 0).all()
    n_pos = sum(int(c.split("(")[1].split()[0]) for c in perfect.columns)
    assert n_pos == int(y.sum())


@pytest.mark.slow
def test_report_command_on_own_file(own_files, tmp_path, capsys):
    out = tmp_path / "case" / "report.html"
    rc = main(
        [
            "report",
            "--data",
            str(own_files / "shop.csv"),
            *OWN_ARGS,
            "--strategies",
            "popularity,logistic",
            "--seeds",
            "3",
            "--output",
            str(out),
        ]
    )
    assert rc == 0 and out.stat().st_size > 50_000
    assert "Case study: shop" in out.read_text()
