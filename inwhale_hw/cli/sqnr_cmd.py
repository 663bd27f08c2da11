"""``inwhale-hw sqnr``: compare tensor quantizers on one weight tensor by their SQNR.

``SQNR = 10 log10(sum x**2 / sum (x - x_hat)**2)`` dB, where ``x_hat = decode(encode(x))``
after ``fit(x)`` (each quantizer calibrates on the whole tensor).  Quantizers are given as
``-q NAME`` or ``-q LABEL=NAME`` (to compare one quantizer under several settings); ``--bits``
sets ``bits`` of every quantizer that has that parameter; ``-p LABEL.KEY=VALUE`` sets any
parameter (and wins over ``--bits``).  ``--plot FILE.png`` (needs the ``plot`` extra,
matplotlib) draws, per quantizer, the histogram of the weights with the levels the tensor was
quantized to.  ``--json`` prints the results; ``sqnr_db`` is null when the error is zero.
:func:`sqnr_table` is the computation, for use from Python.

Bits per weight (``bpw``) count what must be stored, scales included: a quantizer's own
``bits_per_weight`` (block formats: ``8 * bytes per block / block size``, so Q4_0 4.5, Q8_0
8.5, MXFP4 4.25; ``bnb`` NF4 with double quantization ``4 + 8/64 + 32/(64*256)`` plus its
offset, about 4.127; ``minifloat``: element bits plus a float32 scale per tensor/channel),
else ``bits`` plus a float32 scale per scale group and, for asymmetric quantizers, a zero point
of the code width.  The block formats are ``gguf`` (``-p L.type=Q4_0``), ``mx``
(``-p L.format=mxfp4_e2m1``), ``bnb`` and ``minifloat``; block formats need the last axis to be a
multiple of their block size.

WEIGHTS is a ``.npy``/``.npz`` file, or a GGUF file (``.gguf``) with ``--key TENSOR``: the
tensor is read with ``gguf.GGUFReader`` and dequantized with ``gguf.quants`` (needs the
``gguf`` package), in the GGUF shape order (row = last axis).

The figures usually quoted for 1M samples of N(0, 1) (``default_rng(0).standard_normal``)
come out of the defaults plus one setting each (``tests/cli/test_sqnr_cmd.py`` checks them)::

    -q affine -p affine.bits=8          int8 symmetric max-abs, levels ±127 s    39.37 dB
    -q affine -p affine.observer=mse    int4 [-7, 7], MSE-optimal clip           18.90 dB
    -q pow2 --bits 4                    0, ±2**(n1-6..n1), n1 = INQ's rule       14.22 dB
    -q apot --bits 4                    {0,.1,.2,.3,.4,.6,.8,1} alpha, MSE alpha  19.16 dB

(``--bits 4`` for the int4 line too.)
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import InputError, ParameterError, UnsupportedError
from ..host import get_host

__all__ = ["command", "sqnr_db", "sqnr_table", "parse_specs", "load_tensor", "bits_per_weight"]


def sqnr_db(x: np.ndarray, x_hat: np.ndarray) -> float:
    """``10 log10(sum x**2 / sum (x - x_hat)**2)`` in float64; ``inf`` when the error is zero."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    err = x - np.asarray(x_hat, dtype=np.float64).reshape(-1)
    noise, signal = float(np.dot(err, err)), float(np.dot(x, x))
    if noise == 0:
        return math.inf
    if signal == 0:
        return -math.inf
    return 10.0 * math.log10(signal / noise)


def parse_specs(specs: tuple[str, ...], params: tuple[str, ...], bits: int | None) -> list[tuple[str, str, dict[str, Any]]]:
    """``(label, quantizer name, params)`` for each ``-q``, with ``-p LABEL.KEY=VALUE`` and ``--bits`` applied."""
    registry = get_host().registry
    entries: dict[str, tuple[str, dict[str, Any]]] = {}
    for spec in specs:
        label, sep, name = spec.partition("=")
        label, name = label.strip(), (name if sep else label).strip()
        if label in entries:
            raise ParameterError(f"-q {spec!r}: label {label!r} is used twice; write -q LABEL=NAME to tell them apart")
        cls = registry.get(name)
        if cls.kind != "tensor":
            raise ParameterError(f"-q {spec!r}: quantizer {name!r} is of kind {cls.kind!r}; sqnr compares tensor quantizers")
        declared = {p.name for p in cls.param_specs()}
        entries[label] = (name, {"bits": bits} if bits is not None and "bits" in declared else {})
    for item in params:
        key, sep, value = item.partition("=")
        label, dot, pname = key.strip().partition(".")
        if not sep or not dot or not pname:
            raise ParameterError(f"-p {item!r} is not allowed; expected LABEL.KEY=VALUE, e.g. -p affine.observer=mse")
        if label not in entries:
            raise ParameterError(f"-p {item!r}: no quantizer labelled {label!r}; labels: {', '.join(entries)}")
        entries[label][1][pname] = value
    return [(label, name, p) for label, (name, p) in entries.items()]


def _load_gguf(path: str, key: str | None) -> np.ndarray:
    try:
        from gguf import GGUFReader
        from gguf.quants import dequantize
    except ImportError as exc:
        raise UnsupportedError(f"{path}: reading GGUF files needs the gguf package ({exc}); pip install gguf") from None
    try:
        reader = GGUFReader(path)
    except (ValueError, OSError, KeyError) as exc:
        raise InputError(f"{path}: not a readable GGUF file ({exc})") from None
    names = [t.name for t in reader.tensors]
    if key is None:
        raise InputError(f"{path}: choose a tensor with --key; the file holds {', '.join(names[:20])}"
                         + (" ..." if len(names) > 20 else ""))
    if key not in names:
        raise InputError(f"{path}: no tensor {key!r}; the file holds {', '.join(names[:20]) or 'nothing'}")
    t = reader.tensors[names.index(key)]
    with np.errstate(invalid="ignore", over="ignore"):
        data = dequantize(t.data, t.tensor_type)
    return np.asarray(data, dtype=np.float32).reshape(tuple(int(d) for d in reversed(t.shape.tolist())))


def bits_per_weight(q: Any, size: int) -> float:
    """Stored bits per value of a fitted quantizer on ``size`` values, scales included (module doc)."""
    own = getattr(q, "bits_per_weight", None)
    if own is not None:
        return float(own)
    bits = q.params.get("bits")
    if bits is None:
        return math.nan
    groups = int(np.size(getattr(q, "scale", None))) if getattr(q, "scale", None) is not None else 1
    extra = 32 * groups + (bits * groups if q.params.get("symmetric") is False else 0)
    return bits + extra / size


def load_tensor(path: str, key: str | None = None) -> np.ndarray:
    """A real array from a ``.npy`` file, a ``.npz`` archive (``key``, or its only array) or a
    ``.gguf`` file (tensor ``key``, dequantized)."""
    if str(path).endswith(".gguf"):
        return _load_gguf(path, key)
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a NumPy .npy/.npz file ({exc})") from None
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            names = list(data.keys())
            if key is None and len(names) != 1:
                raise InputError(f"{path}: archive holds {len(names)} arrays ({', '.join(names)}); choose one with --key")
            if key is not None and key not in names:
                raise InputError(f"{path}: no array {key!r}; the archive holds {', '.join(names) or 'nothing'}")
            data = data[key if key is not None else names[0]]
    if data.dtype.kind not in "fiu" or data.size == 0:
        raise InputError(f"{path}: expected a non-empty real array, got dtype {data.dtype} and shape {data.shape}")
    return data


def sqnr_table(x: np.ndarray, entries: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Fit, encode and decode ``x`` with each ``(label, name, params)``; one result dict each."""
    registry = get_host().registry
    results = []
    for label, name, params in entries:
        q = registry.create(name, **params)
        q.fit(x)
        x_hat = q.decode(q.encode(x))
        err = np.asarray(x_hat, dtype=np.float64) - x
        results.append(
            {
                "label": label,
                "quantizer": q.name,
                "params": {k: _plain(v) for k, v in q.params.items()},
                "sqnr_db": sqnr_db(x, x_hat),
                "mse": float(np.mean(err * err)),
                "max_abs_error": float(np.max(np.abs(err))),
                "levels_used": int(np.unique(x_hat).size),
                "bits_per_weight": bits_per_weight(q, x.size),
                "x_hat": x_hat,
            }
        )
    return results


def _plain(value: Any) -> Any:
    return value.name if hasattr(value, "name") and not isinstance(value, (str, int, float)) else value


def _plot(x: np.ndarray, results: list[dict[str, Any]], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UnsupportedError(f"--plot needs matplotlib ({exc}); install the plot extra: pip install 'inwhale_hw[plot]'") from None
    from ..audio.atomic import atomic_path

    flat = x.reshape(-1)
    fig, axes = plt.subplots(len(results), 1, figsize=(9, 2.4 * len(results)), sharex=True, squeeze=False)
    for ax, r in zip(axes[:, 0], results):
        ax.hist(flat, bins=256, density=True, color="0.6", label="weights")
        levels = np.unique(r["x_hat"])
        ax.vlines(levels, 0, 1, transform=ax.get_xaxis_transform(), colors="tab:red",
                  linewidth=0.8 if levels.size <= 64 else 0.3, label=f"{levels.size} levels used")
        ax.set_title(f"{r['label']} ({r['quantizer']}): SQNR {r['sqnr_db']:.2f} dB", fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("value")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


@click.command("sqnr")
@click.argument("weights", type=click.Path(dir_okay=False))
@click.option("-q", "--quantizer", "specs", multiple=True, required=True,
              help="Tensor quantizer NAME or LABEL=NAME; repeat to compare.")
@click.option("--bits", type=click.IntRange(1, 64), default=None, help="Set bits of every quantizer that has it.")
@click.option("-p", "--param", "params", multiple=True, help="LABEL.KEY=VALUE parameter of one quantizer.")
@click.option("--key", default=None, help="Array name inside a .npz archive, or tensor name in a .gguf file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Write a PNG of the weight histogram and each quantizer's levels (plot extra).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def command(weights: str, specs: tuple[str, ...], bits: int | None, params: tuple[str, ...], key: str | None,
            plot_path: str | None, as_json: bool) -> None:
    """SQNR and bits per weight of tensor quantizers on the weights in WEIGHTS (.npy, .npz or .gguf)."""
    entries = parse_specs(specs, params, bits)
    x = load_tensor(weights, key).astype(np.float64)
    results = sqnr_table(x, entries)
    if plot_path is not None:
        _plot(x, results, plot_path)
    if as_json:
        out = {"file": str(Path(weights)), "shape": list(x.shape),
               "results": [{k: (None if k in ("sqnr_db", "bits_per_weight") and not math.isfinite(v) else v)
                            for k, v in r.items() if k != "x_hat"}
                           for r in results]}
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"{weights}: {x.size} values, shape {x.shape}")
    click.echo(f"  {'label':<14} {'quantizer':<10} {'bits':>4} {'bpw':>7} {'SQNR dB':>9} {'MSE':>11} {'levels':>6}")
    for r in results:
        b = r["params"].get("bits", "")
        click.echo(f"  {r['label']:<14} {r['quantizer']:<10} {b!s:>4} {r['bits_per_weight']:>7.3f} {r['sqnr_db']:>9.2f} "
                   f"{r['mse']:>11.4g} {r['levels_used']:>6}")
    if plot_path is not None:
        click.echo(f"plot written to {plot_path}")
