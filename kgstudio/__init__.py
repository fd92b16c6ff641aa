"""kgstudio: a desktop workbench for turning your own documents into a knowledge graph.

The package is a headless core (``domain``, ``store``, ``ingest``, ``llm``,
``pipeline``, ``ontology``, ``graph``, ``edit``, ``export``, ``cli``) with the
Qt user interface at the edge (``gui``, the only package that imports Qt).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kgstudio")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"
