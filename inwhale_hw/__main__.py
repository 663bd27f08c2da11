"""``python -m inwhale_hw`` runs the command line."""

from .cli import main

main()
