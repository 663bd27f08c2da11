"""``inwhale-hw sqnr``: the literature figures on N(0, 1), output formats, the plot and errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from inwhale_hw.cli import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def gaussian_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqnr") / "gauss.npy"
    np.save(path, np.random.default_rng(0).standard_normal(1_000_000))
    return path


# Literature-style figures for 1M samples of N(0, 1), seed 0, and the conventions that give them:
#   int8 symmetric max-abs: affine bits=8 (symmetric, levels ±127 s, s = max|x|/127)
#   int4 [-7, 7], MSE-optimal clip: affine bits=4 observer=mse (clip-ratio grid search)
#   4-bit power of two: pow2 bits=4 (sign + 3-bit exponent: 0 and ±2**(n1-6..n1), n1 from
#       INQ's rule floor(log2(4 max|x| / 3)), nearest level)
#   4-bit APoT: apot bits=4 ({0, .1, .2, .3, .4, .6, .8, 1} * alpha, alpha MSE-optimal)
LITERATURE = {"int8": 39.37, "int4": 18.90, "pow2": 14.22, "apot": 19.16}


def test_literature_figures_within_0_1_db(gaussian_file):
    res = run(
        "sqnr", gaussian_file, "--bits", "4", "--json",
        "-q", "int8=affine", "-p", "int8.bits=8",
        "-q", "int4=affine", "-p", "int4.observer=mse",
        "-q", "pow2", "-q", "apot",
    )
    assert res.exit_code == 0, res.output
    got = {r["label"]: r["sqnr_db"] for r in json.loads(res.output)["results"]}
    for label, figure in LITERATURE.items():
        assert abs(got[label] - figure) < 0.1, (label, got[label], figure)


def test_int8_figure_against_a_from_scratch_computation(gaussian_file):
    x = np.load(gaussian_file)
    s = np.max(np.abs(x)) / 127
    xh = np.clip(np.round(x / s), -127, 127) * s
    ref = 10 * math.log10(float(np.sum(x * x)) / float(np.sum((x - xh) ** 2)))
    res = run("sqnr", gaussian_file, "-q", "affine", "--json")
    (r,) = json.loads(res.output)["results"]
    assert r["sqnr_db"] == pytest.approx(ref, abs=1e-9)
    assert r["params"]["bits"] == 8 and r["levels_used"] <= 255


def test_text_table_and_param_precedence(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(1).normal(0, 0.05, (16, 3, 3, 3)).astype(np.float32))
    res = run("sqnr", path, "-q", "a=affine", "-q", "b=affine", "-p", "b.bits=6", "-p", "b.granularity=channel",
              "-q", "inq", "--bits", "4")
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "432 values, shape (16, 3, 3, 3)" in lines[0]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["a"][1:3] == ["affine", "4"] and rows["b"][1:3] == ["affine", "6"] and rows["inq"][1:3] == ["inq", "4"]
    assert float(rows["b"][3]) > float(rows["a"][3])


def test_lossless_gives_null_sqnr_in_json(tmp_path):
    path = tmp_path / "ints.npy"
    np.save(path, np.arange(-127, 128))
    res = run("sqnr", path, "-q", "affine", "--json")
    (r,) = json.loads(res.output)["results"]
    assert r["sqnr_db"] is None and r["mse"] == 0.0


def test_npz_key(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, a=np.ones(4), b=np.linspace(-1, 1, 9))
    res = run("sqnr", path, "-q", "pow2")
    assert res.exit_code == 1 and "choose one with --key" in res.output
    res = run("sqnr", path, "--key", "b", "-q", "pow2", "--json")
    assert json.loads(res.output)["shape"] == [9]


def test_plot_writes_a_png(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(2).normal(0, 1, 5000))
    res = run("sqnr", path, "-q", "affine", "-q", "apot", "--bits", "4", "--plot", tmp_path / "out.png")
    assert res.exit_code == 0, res.output
    data = (tmp_path / "out.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = plt.imread(tmp_path / "out.png")
    assert image.shape[0] > 300 and image.shape[1] > 600
    assert not list(tmp_path.glob(".out.*"))  # no temporary file left behind


@pytest.mark.parametrize(
    "args, text",
    [
        (["-q", "nosuch"], "nosuch"),
        (["-q", "mulaw"], "kind 'audio'"),
        (["-q", "affine", "-p", "bits=4"], "expected LABEL.KEY=VALUE"),
        (["-q", "affine", "-p", "other.bits=4"], "no quantizer labelled 'other'"),
        (["-q", "affine", "-p", "affine.bits=99"], "bits='99'"),
        (["-q", "affine", "-q", "affine"], "label 'affine' is used twice"),
    ],
)
def test_errors_are_one_line(tmp_path, args, text):
    path = tmp_path / "w.npy"
    np.save(path, np.ones(8))
    res = run("sqnr", path, *args)
    assert res.exit_code == 1
    assert text in res.output and res.output.strip().count("\n") == 0


def test_bad_files(tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    res = run("sqnr", tmp_path / "bad.npy", "-q", "affine")
    assert res.exit_code == 1 and "not a NumPy .npy/.npz file" in res.output
    np.save(tmp_path / "s.npy", np.array(["a", "b"]))
    res = run("sqnr", tmp_path / "s.npy", "-q", "affine")
    assert res.exit_code == 1 and "expected a non-empty real array" in res.output
    res = run("sqnr", tmp_path / "missing.npy", "-q", "affine")
    assert res.exit_code == 1 and "missing.npy" in res.output
