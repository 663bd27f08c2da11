"""A plugin that fails to import, as a plugin with a missing dependency would."""

raise ImportError("inwhale_broken_plugin needs the package 'not_installed_anywhere'")
