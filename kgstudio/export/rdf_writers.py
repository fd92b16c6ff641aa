"""Streaming writers of RDF syntaxes: N-Triples, Turtle, JSON-LD, RDF/XML.

Each takes subject blocks (see :mod:`kgstudio.export.statements`) one at a
time and writes them at once, so memory does not grow with the graph. They
escape every literal so any text comes back byte-for-byte: N-Triples and
Turtle escape quotes, backslashes and every control character; JSON-LD leaves
it to ``json``; RDF/XML escapes markup and carriage returns, and (XML 1.0
cannot hold them at all) replaces NUL and other C0 control characters with
U+FFFD, counting each literal it had to change in the report.
"""

from __future__ import annotations

import json
import re

from kgstudio.errors import KgstudioError
from kgstudio.export.formats import ExportReport
from kgstudio.export.output import TextSink
from kgstudio.export.statements import RDF_TYPE, Block, Lit
from kgstudio.export.vocabulary import KNOWN_PREFIXES, RDF

# N-Triples / Turtle string escapes: quote, backslash and every C0 control character and DEL.
_NT_TABLE = {code: f"\\u{code:04X}" for code in (*range(0x20), 0x7F)}
_NT_TABLE.update({ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
_NT_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f]')


def nt_string(value: str) -> str:
    """A quoted N-Triples/Turtle string literal for ``value``."""
    if _NT_SPECIAL.search(value):
        value = value.translate(_NT_TABLE)
    return f'"{value}"'


def nt_literal(literal: Lit) -> str:
    text = nt_string(literal.value)
    if literal.lang:
        return f"{text}@{literal.lang}"
    if literal.datatype:
        return f"{text}^^<{literal.datatype}>"
    return text


class NTriplesWriter:
    """One line per statement: the simplest syntax, and the fastest to write and to load."""

    name = "nt"

    def __init__(self, sink: TextSink, report: ExportReport, prefixes: dict[str, str]) -> None:
        self.sink, self.report = sink, report

    def start(self) -> None:
        pass

    def block(self, block: Block) -> None:
        subject, pairs = block
        head = f"<{subject}> <"
        lines = []
        append, special, table = lines.append, _NT_SPECIAL.search, _NT_TABLE
        for predicate, obj in pairs:  # inlined nt_literal: this runs once per statement
            if type(obj) is str:
                append(f"{head}{predicate}> <{obj}> .\n")
                continue
            value, datatype, lang = obj  # type: ignore[misc]
            if special(value):
                value = value.translate(table)
            if lang:
                append(f'{head}{predicate}> "{value}"@{lang} .\n')
            elif datatype:
                append(f'{head}{predicate}> "{value}"^^<{datatype}> .\n')
            else:
                append(f'{head}{predicate}> "{value}" .\n')
        self.sink.write("".join(lines))
        self.report.statements += len(pairs)

    def end(self) -> None:
        pass


_PN_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?\Z")


class TurtleWriter:
    """Turtle grouped by subject (``;`` between predicates, ``,`` between objects), with prefixes."""

    name = "ttl"

    def __init__(self, sink: TextSink, report: ExportReport, prefixes: dict[str, str]) -> None:
        self.sink, self.report = sink, report
        # Longest namespace first, so a term takes the most specific prefix.
        self.prefixes = sorted(prefixes.items(), key=lambda item: -len(item[1]))
        self._cache: dict[str, str] = {}

    def start(self) -> None:
        for prefix, namespace in sorted(self.prefixes):
            self.sink.write(f"@prefix {prefix}: <{namespace}> .\n")
        self.sink.write("\n")

    def iri(self, iri: str) -> str:
        cached = self._cache.get(iri)
        if cached is not None:
            return cached
        written = f"<{iri}>"
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace) and _PN_LOCAL.match(iri, len(namespace)):
                written = f"{prefix}:{iri[len(namespace):]}"
                break
        if len(self._cache) < 100_000:  # predicates and classes repeat; entities mostly do not
            self._cache[iri] = written
        return written

    def literal(self, literal: Lit) -> str:
        if literal.datatype and not literal.lang:
            return f"{nt_string(literal.value)}^^{self.iri(literal.datatype)}"
        return nt_literal(literal)

    def block(self, block: Block) -> None:
        subject, pairs = block
        if not pairs:
            return
        iri = self.iri
        parts = [iri(subject)]
        previous = None
        for predicate, obj in pairs:
            written = iri(obj) if type(obj) is str else self.literal(obj)  # type: ignore[arg-type]
            if predicate == previous:
                parts.append(f" ,\n        {written}")
            else:
                if previous is not None:
                    parts.append(" ;")
                parts.append(f"\n    {'a' if predicate == RDF_TYPE else iri(predicate)} {written}")
                previous = predicate
        parts.append(" .\n\n")
        self.sink.write("".join(parts))
        self.report.statements += len(pairs)

    def end(self) -> None:
        pass


class JsonLdWriter:
    """Expanded JSON-LD: a top-level array of node objects, one per subject block."""

    name = "jsonld"

    def __init__(self, sink: TextSink, report: ExportReport, prefixes: dict[str, str]) -> None:
        self.sink, self.report = sink, report
        self._first = True

    def start(self) -> None:
        self.sink.write("[")

    def block(self, block: Block) -> None:
        subject, pairs = block
        node: dict[str, object] = {"@id": subject}
        for predicate, obj in pairs:
            if predicate == RDF_TYPE and type(obj) is str:
                node.setdefault("@type", []).append(obj)  # type: ignore[union-attr]
                continue
            if type(obj) is str:
                value: dict[str, str] = {"@id": obj}  # type: ignore[dict-item]
            else:
                literal: Lit = obj  # type: ignore[assignment]
                value = {"@value": literal.value}
                if literal.lang:
                    value["@language"] = literal.lang
                elif literal.datatype:
                    value["@type"] = literal.datatype
            node.setdefault(predicate, []).append(value)  # type: ignore[union-attr]
        self.sink.write(("\n" if self._first else ",\n") + json.dumps(node, ensure_ascii=False))
        self._first = False
        self.report.statements += len(pairs)

    def end(self) -> None:
        self.sink.write("\n]\n")


# Characters XML 1.0 cannot hold, not even as character references.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_NAME_TAIL = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _xml_attribute(value: str) -> str:
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
            .replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;"))


def split_for_xml(iri: str) -> tuple[str, str] | None:
    """(namespace, local name) with a local name XML accepts as an element name, or None."""
    match = _XML_NAME_TAIL.search(iri)
    if match is None or match.start() == 0:
        return None
    return iri[:match.start()], match.group(0)


class RdfXmlWriter:
    """RDF/XML: one ``rdf:Description`` per subject; namespaces not known up front are declared in place."""

    name = "xml"

    def __init__(self, sink: TextSink, report: ExportReport, prefixes: dict[str, str]) -> None:
        self.sink, self.report = sink, report
        self.namespaces = {namespace: prefix for prefix, namespace in prefixes.items()}
        self.namespaces[RDF] = "rdf"
        self._elements: dict[str, tuple[str, str]] = {}

    def start(self) -> None:
        declarations = "".join(f'\n    xmlns:{prefix}="{_xml_attribute(namespace)}"'
                               for namespace, prefix in sorted(self.namespaces.items(), key=lambda i: i[1]))
        self.sink.write(f'<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF{declarations}>\n')

    def element(self, predicate: str) -> tuple[str, str]:
        """(element name, extra namespace declaration) for a predicate."""
        known = self._elements.get(predicate)
        if known is not None:
            return known
        split = split_for_xml(predicate)
        if split is None:
            raise KgstudioError(f"the predicate <{predicate}> cannot be written in RDF/XML (its IRI does not end "
                                "in an XML name); export Turtle, N-Triples or JSON-LD instead")
        namespace, local = split
        prefix = self.namespaces.get(namespace)
        declaration = ""
        if prefix is None:
            prefix = "ns"
            declaration = f' xmlns:ns="{_xml_attribute(namespace)}"'
        result = (f"{prefix}:{local}", declaration)
        if len(self._elements) < 100_000:
            self._elements[predicate] = result
        return result

    def block(self, block: Block) -> None:
        subject, pairs = block
        parts = [f'  <rdf:Description rdf:about="{_xml_attribute(subject)}">\n']
        for predicate, obj in pairs:
            name, declaration = self.element(predicate)
            if type(obj) is str:
                parts.append(f'    <{name}{declaration} rdf:resource="{_xml_attribute(obj)}"/>\n')  # type: ignore[arg-type]
                continue
            literal: Lit = obj  # type: ignore[assignment]
            value = literal.value
            if _XML_ILLEGAL.search(value):
                value = _XML_ILLEGAL.sub("\ufffd", value)
                self.report.warn("RDF/XML cannot hold NUL and other control characters; they were written as "
                                 "U+FFFD (use Turtle, N-Triples or JSON-LD to keep them)")
            attribute = ""
            if literal.lang:
                attribute = f' xml:lang="{_xml_attribute(literal.lang)}"'
            elif literal.datatype:
                attribute = f' rdf:datatype="{_xml_attribute(literal.datatype)}"'
            parts.append(f"    <{name}{declaration}{attribute}>{_xml_text(value)}</{name}>\n")
        parts.append("  </rdf:Description>\n")
        self.sink.write("".join(parts))
        self.report.statements += len(pairs)

    def end(self) -> None:
        self.sink.write("</rdf:RDF>\n")


WRITERS = {w.name: w for w in (NTriplesWriter, TurtleWriter, JsonLdWriter, RdfXmlWriter)}


def standard_prefixes(base_iri: str) -> dict[str, str]:
    """Prefixes every RDF export declares: the well-known ones and the project's own namespaces."""
    prefixes = {p: KNOWN_PREFIXES[p] for p in ("rdf", "rdfs", "owl", "xsd", "prov", "skos", "kgs")}
    prefixes.update({"kg": base_iri + "entity/", "kgp": base_iri + "property/", "kgc": base_iri + "class/"})
    return prefixes
