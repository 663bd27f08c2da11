"""``batch`` and ``accel sweep`` on a real Dask cluster: a ``dask scheduler`` and two ``dask
worker`` processes on loopback (random ports), compared with serial runs, and a worker killed
mid-run."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed", reason="the cluster tests need dask[distributed] (cluster extra)")

from cluster import start_cluster  # noqa: E402
from corpus_data import make_corpus  # noqa: E402

from inwhale_hw.scale import CodecConfig, discover, open_engine, run_batch  # noqa: E402
from inwhale_hw.scale.sweep import load_sweep, run_sweep  # noqa: E402

pytestmark = pytest.mark.slow

CONFIGS = [CodecConfig("mulaw"), CodecConfig("ima-adpcm"), CodecConfig("dpcm", (("bits", 3),))]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return discover(make_corpus(tmp_path_factory.mktemp("corpus"), count=50))


@pytest.fixture(scope="module")
def serial_rows(corpus, tmp_path_factory):
    with open_engine(serial=True) as engine:
        result = run_batch(corpus, CONFIGS, tmp_path_factory.mktemp("serial"), engine)
    assert len(result.rows) == 150 and not result.failures
    return result.rows


@pytest.fixture
def cluster(tmp_path):
    c = start_cluster(tmp_path, workers=2)
    yield c
    c.close()


def test_batch_on_two_workers_equals_serial(corpus, serial_rows, cluster, tmp_path):
    with open_engine(cluster.address) as engine:
        assert engine.kind == "remote" and engine.workers == 2
        result = run_batch(corpus, CONFIGS, tmp_path / "out", engine, ship_bytes=True)
    assert result.computed == 150 and not result.failures
    assert result.rows == serial_rows


def test_killed_worker_loses_nothing(corpus, serial_rows, cluster, tmp_path):
    killed = []

    def progress(done, total):
        if done == 10 and not killed:
            cluster.kill_worker(0)
            killed.append(done)

    with open_engine(cluster.address) as engine:
        result = run_batch(corpus, CONFIGS, tmp_path / "out", engine, progress=progress)
    assert killed and cluster.workers[0].poll() is not None
    assert not result.failures and result.rows == serial_rows


def test_sweep_on_two_workers_equals_serial(cluster, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "accel"))
    from accel_models import example

    models = example("digits_models")
    folder = tmp_path / "models"
    models.build_all(folder)
    x = np.load(folder / "digits_x.npy")[:240]
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", np.load(folder / "digits_y.npy")[:240])
    (folder / "sweep.toml").write_text(
        '[models.mlp]\nmodel = "digits_mlp_qdq.onnx"\nfloat = "digits_mlp_float.onnx"\n'
        '[models.res]\nmodel = "digits_res_qdq.onnx"\n'
        '[data]\ninputs = "x.npy"\nlabels = "y.npy"\nshards = 3\n'
        '[grid]\nacc_bits = [32, 16]\noverflow = ["wrap", "sat"]\n')
    spec = load_sweep(folder / "sweep.toml")
    with open_engine(serial=True) as engine:
        serial = run_sweep(spec, engine)
    with open_engine(cluster.address) as engine:
        parallel = run_sweep(spec, engine)
    assert parallel == serial and len(serial) == 8
    whole = load_sweep(folder / "sweep.toml").__class__(**{**spec.__dict__, "shards": 1})
    with open_engine(serial=True) as engine:
        unsharded = run_sweep(whole, engine)
    batch_dependent = {"float_rms_error", "cycles_per_image"}  # float rounding; the array tiles the batch
    for a, b in zip(serial, unsharded):  # every count merges exactly
        assert {k: v for k, v in a.items() if k not in batch_dependent} == {k: v for k, v in b.items() if k not in batch_dependent}
        assert a["cycles_per_image"] >= b["cycles_per_image"]  # smaller batches fill the array less
        if b["float_rms_error"] is None:
            assert a["model"] == "res" and a["float_rms_error"] is None  # no float model given for res
        else:
            assert a["float_rms_error"] == pytest.approx(b["float_rms_error"], rel=1e-12, abs=0)
