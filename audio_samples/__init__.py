"""Bundled audio samples, installed as package data ``inwhale_hw.audio_samples``."""

if __name__ != "inwhale_hw.audio_samples":
    raise ImportError(
        f"the bundled samples are the package 'inwhale_hw.audio_samples', not {__name__!r}: "
        "install the project (pip install -e .) and use inwhale_hw.samples.samples_dir()"
    )
