"""Views of the stored graph, never its source of truth, and without Qt.

- :mod:`kgstudio.graph.data`: the graph as column arrays, as the canvas draws it, kept in step by change sets;
- :mod:`kgstudio.graph.layouts`: layouts (quick, circular, force-directed, hierarchical) over those arrays;
- :mod:`kgstudio.graph.queries`: the read-only queries the window's panels show (documents, evidence, candidates).
"""
