"""Readers that turn files into Documents and Segments with exact locators (see DESIGN.md).

Built-in readers register through the entry-point group ``kgstudio.readers``,
exactly as third-party readers do. The readers themselves arrive with the import issue.
"""
