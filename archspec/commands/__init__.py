"""Subcommands beyond check and build, one module each, registered in archspec.cli.REGISTRARS."""
