"""SPARQL for competency questions: the prefixes of an ontology, and checking a query against it.

A CQ's query is stored as written (by the LLM or the user), usually without
``PREFIX`` lines: :func:`prefixes` gives every namespace of the ontology a short
prefix (``kgs:``, ``foaf:``, ``schema:``, or one made from the namespace's last
path segment), and these, with ``rdf:``, ``rdfs:``, ``owl:``, ``xsd:``, are in
scope when a query is parsed or run. :func:`check_sparql` says whether a query
parses and uses only the ontology's classes and properties (plus ``rdf:type``,
``rdfs:label`` and the other standard vocabulary terms).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import OWL, RDF, RDFS, XSD, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kgstudio.domain import Ontology

KGS = "https://w3id.org/kgstudio/ontology#"
STANDARD = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL), "xsd": str(XSD)}
WELL_KNOWN = {KGS: "kgs", "http://xmlns.com/foaf/0.1/": "foaf", "https://schema.org/": "schema",
              "http://schema.org/": "schema", "http://purl.org/dc/terms/": "dcterms"}
_PREFIX_LINE = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w-]*)?:\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)


def namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[:cut + 1] if cut >= 0 else iri


def prefixes(ontology: Ontology) -> dict[str, str]:
    """``{prefix: namespace}`` for the standard vocabularies and every namespace of the ontology's terms."""
    result = dict(STANDARD)
    taken = set(result)
    for iri in [c.iri for c in ontology.classes] + [p.iri for p in ontology.properties]:
        ns = namespace(iri)
        if ns in result.values():
            continue
        base = WELL_KNOWN.get(ns) or _prefix_from(ns)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}{n}"
        taken.add(name)
        result[name] = ns
    return result


def prefix_header(ontology: Ontology) -> str:
    return "\n".join(f"PREFIX {p}: <{ns}>" for p, ns in prefixes(ontology).items())


def curie(iri: str, ontology: Ontology) -> str:
    """``iri`` as ``prefix:local`` with the ontology's prefixes (or ``<iri>``)."""
    for prefix, ns in prefixes(ontology).items():
        if iri.startswith(ns) and re.fullmatch(r"[A-Za-z_][\w.-]*", iri[len(ns):] or "-"):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def with_prefixes(query: str, ontology: Ontology) -> str:
    """``query`` with PREFIX lines for the ontology's prefixes it does not declare itself."""
    declared = {m.group(1) or "" for m in _PREFIX_LINE.finditer(query)}
    missing = [f"PREFIX {p}: <{ns}>" for p, ns in prefixes(ontology).items() if p not in declared]
    return "\n".join(missing + [query]) if missing else query


@dataclass
class SparqlCheck:
    """Whether a query parses and stays inside the ontology."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)  # the IRIs it uses
    variables: list[str] = field(default_factory=list)  # what it selects

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": self.problems, "terms": sorted(self.terms), "variables": self.variables}


def check_sparql(query: str, ontology: Ontology) -> SparqlCheck:
    """Parse ``query`` (with the ontology's prefixes) and list the terms it uses that the ontology lacks."""
    try:
        prepared = prepareQuery(with_prefixes(query, ontology))
    except Exception as exc:  # pyparsing and rdflib raise several types for a bad query
        return SparqlCheck(False, [f"the query does not parse: {_first_line(exc)}"])
    terms = set(_iris(prepared.algebra))
    known = {c.iri for c in ontology.classes} | {p.iri for p in ontology.properties}
    standard = tuple(STANDARD.values())
    problems = [f"{curie(t, ontology)} is not a term of the ontology" for t in sorted(terms)
                if t not in known and not t.startswith(standard)]
    variables = [str(v) for v in (getattr(prepared.algebra, "PV", None) or [])]
    return SparqlCheck(not problems, problems, terms, variables)


def pattern_triples(query: str, ontology: Ontology) -> list[tuple[Any, Any, Any]]:
    """The triple patterns of the query's basic graph patterns (variables as rdflib ``Variable``)."""
    prepared = prepareQuery(with_prefixes(query, ontology))
    found: list[tuple[Any, Any, Any]] = []
    for node in _nodes(prepared.algebra):
        if node.name == "BGP":
            found.extend(tuple(t) for t in node.triples)
    return found


def _iris(node: Any) -> Iterator[str]:
    for value in _values(node):
        if isinstance(value, URIRef):
            yield str(value)


def _nodes(node: Any) -> Iterator[CompValue]:
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _nodes(item)


def _values(node: Any) -> Iterator[Any]:
    if isinstance(node, CompValue):
        for value in node.values():
            yield from _values(value)
    elif isinstance(node, list | tuple | set):
        for item in node:
            yield from _values(item)
    elif isinstance(node, URIRef | Variable):
        yield node


def _prefix_from(ns: str) -> str:
    words = [w for w in re.split(r"[/#:]", ns.rstrip("/#:")) if re.fullmatch(r"[A-Za-z][\w-]*", w)]
    word = words[-1].lower() if words else "ns"
    return re.sub(r"[^a-z0-9]", "", word)[:12] or "ns"


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
