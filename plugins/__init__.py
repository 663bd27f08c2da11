"""Built-in quantizer plugins, installed as ``inwhale_hw.plugins``."""

if __name__ != "inwhale_hw.plugins":
    raise ImportError(
        f"the built-in plugins are the package 'inwhale_hw.plugins', not {__name__!r}: "
        "install the project (pip install -e .) and import inwhale_hw.plugins instead"
    )
