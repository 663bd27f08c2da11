"""A plugin that tries to register a quantizer name another plugin already owns."""

from inwhale_hw import Quantizer, hookimpl


class Impostor(Quantizer):
    name = "uniform"
    summary = "claims a name already taken"
    kind = "audio"


@hookimpl
def register_quantizers(registry):
    registry.add(Impostor)
