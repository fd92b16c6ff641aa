"""The ``kgstudio`` command line."""
