"""Amaranth datapaths for the quantizer plugins, installed as ``inwhale_hw.hdl``."""

if __name__ != "inwhale_hw.hdl":
    raise ImportError(
        f"the hardware components are the package 'inwhale_hw.hdl', not {__name__!r}: "
        "install the project (pip install -e .) and import inwhale_hw.hdl instead"
    )
