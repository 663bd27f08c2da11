"""Drop-in replacements for standard-library modules removed from newer Pythons."""
