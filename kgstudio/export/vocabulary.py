"""IRIs for everything an export names: predicates, classes, datatypes, provenance nodes.

Entities carry the IRI the store minted for them. Predicates and classes are
names in the store ("worksFor", "Column A", "Prix unitaire (€)"); they become
IRIs like this, first match wins:

1. the project ontology (``ontology_class`` / ``ontology_property`` rows, by name);
2. kgstudio's default ontology (``resources/ontology/default.ttl``), by local name;
3. a name that already is an absolute ``http(s)``/``urn`` IRI, or a CURIE with a
   well-known prefix (``foaf:name``), is used as that IRI;
4. otherwise a term in the project's own namespace: ``{base}property/{local}`` or
   ``{base}class/{local}``. ``local`` is the name itself when it is a plain ASCII
   XML name (``sender``, ``toRecipient``), else an ASCII camel-case slug plus a
   dot and 8 hex digits of the name's SHA-256 (``prixUnitaire.5b0f2c1a``). The
   slug keeps it readable, the hash keeps different names apart, and the local
   part is always a valid XML name, so RDF/XML can write it as an element.

Exports declare every term they use with its exact name (``kgs:termName``), so an
import gives back the same names. Nothing here produces an invalid IRI: a
stored IRI with characters IRIs forbid is percent-encoded (see :func:`safe_iri`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.resources import files

from kgstudio.domain import OntologyClass, OntologyProperty

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
KGS = "https://w3id.org/kgstudio/ontology#"
KGS_ONTOLOGY = "https://w3id.org/kgstudio/ontology"

RDF_TYPE = RDF + "type"
RDF_LANGSTRING = RDF + "langString"
XSD_STRING = XSD + "string"

# Prefixes a predicate, class or datatype may be written with ("foaf:name", "xsd:date").
KNOWN_PREFIXES = {
    "rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD, "prov": PROV, "skos": SKOS, "kgs": KGS,
    "foaf": "http://xmlns.com/foaf/0.1/", "schema": "https://schema.org/", "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
}

_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_WORD = re.compile(r"[A-Za-z0-9]+")
_CURIE = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):([A-Za-z_][A-Za-z0-9_.-]*)\Z")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# An absolute IRI we trust as written: a common scheme and only characters that need no thought.
_PLAIN_IRI = re.compile(r"(?:https?://[A-Za-z0-9.-]+(?::[0-9]+)?/|urn:[A-Za-z0-9][A-Za-z0-9-]*:)"
                        r"[A-Za-z0-9._~!$&'()*+,;=:@/?#-]*\Z")
_HEX = frozenset("0123456789abcdefABCDEF")
# RFC 3987: bidi formatting characters must not appear in an IRI, even where ucschar allows them.
_BIDI_FORMATTING = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e")
_ASCII_ALLOWED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#@!$&'()*+,;=")


def local_name(name: str) -> str:
    """The XML-name-safe local part of a term minted for ``name`` (see the module docstring)."""
    if _XML_NAME.match(name):
        return name
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = _WORD.findall(folded)
    slug = (words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:]))[:40] if words else ""
    if not slug or not (slug[0].isalpha() or slug[0] == "_"):
        slug = "t" + slug
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{slug}.{digest}"


def _is_ucschar(code: int) -> bool:
    return (0xA0 <= code <= 0xD7FF or 0xF900 <= code <= 0xFDCF or 0xFDF0 <= code <= 0xFFEF
            or (0x10000 <= code <= 0xEFFFD and (code & 0xFFFF) <= 0xFFFD))


def safe_iri(text: str) -> str:
    """``text`` with every character an IRI may not hold percent-encoded (as UTF-8).

    Also encodes a ``%`` that does not start an escape, and bidi formatting
    characters. Returns ``text`` unchanged when it already is clean.
    """
    out = []
    for index, char in enumerate(text):
        code = ord(char)
        if char == "%":
            ok = text[index + 1:index + 2] in _HEX and text[index + 2:index + 3] in _HEX
            out.append("%" if ok else "%25")
        elif char in _ASCII_ALLOWED or (_is_ucschar(code) and char not in _BIDI_FORMATTING):
            out.append(char)
        else:
            out.append("".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass")))
    return "".join(out)


def is_valid_iri(text: str) -> bool:
    """True when ``text`` is an absolute IRI by RFC 3987 (checked by Oxigraph's parser)."""
    from pyoxigraph import NamedNode

    try:
        NamedNode(text)
    except ValueError:
        return False
    return bool(_SCHEME.match(text))


def is_plain_iri(text: str) -> bool:
    """True for an absolute http(s)/urn IRI of plain characters (a predicate written as an IRI)."""
    return bool(_PLAIN_IRI.match(text))


@dataclass
class Vocabulary:
    """Name → IRI for one export: the project's ontology, the default ontology, minted terms."""

    base_iri: str
    classes: dict[str, OntologyClass] = field(default_factory=dict)
    properties: dict[str, OntologyProperty] = field(default_factory=dict)

    @classmethod
    def build(cls, base_iri: str, classes: Iterable[OntologyClass],
              properties: Iterable[OntologyProperty]) -> "Vocabulary":
        """The project's ontology over kgstudio's default one (a project term wins on a name clash)."""
        default_classes, default_properties = default_ontology()
        vocabulary = cls(safe_iri(base_iri))
        vocabulary.classes = {c.name: c for c in default_classes}
        vocabulary.properties = {p.name: p for p in default_properties}
        vocabulary.classes.update((c.name, c) for c in classes)
        vocabulary.properties.update((p.name, p) for p in properties)
        return vocabulary

    @property
    def property_namespace(self) -> str:
        return f"{self.base_iri}property/"

    @property
    def class_namespace(self) -> str:
        return f"{self.base_iri}class/"

    def property_iri(self, name: str) -> str:
        known = self.properties.get(name)
        if known is not None:
            return _term_iri(known.iri, self.property_namespace, name)
        return _term_iri(name, self.property_namespace, name)

    def class_iri(self, name: str) -> str:
        known = self.classes.get(name)
        if known is not None:
            return _term_iri(known.iri, self.class_namespace, name)
        return _term_iri(name, self.class_namespace, name)

    def node_iri(self, kind: str, key: object) -> str:
        """A provenance node of this project: ``{base}statement/12``, ``{base}document/3``, ..."""
        return f"{self.base_iri}{kind}/{key}"


def _term_iri(written: str, namespace: str, name: str) -> str:
    if is_plain_iri(written):
        return written
    curie = _CURIE.match(written)
    if curie and curie.group(1) in KNOWN_PREFIXES:
        return KNOWN_PREFIXES[curie.group(1)] + curie.group(2)
    if _SCHEME.match(written) and written != name:  # an ontology's IRI with odd characters
        cleaned = safe_iri(written)
        if is_valid_iri(cleaned):
            return cleaned
    return namespace + local_name(name)


def datatype_iri(datatype: str | None) -> str | None:
    """The IRI of a stored datatype ("xsd:date", or a full IRI); None for a plain string."""
    if not datatype:
        return None
    curie = _CURIE.match(datatype)
    if curie and curie.group(1) in KNOWN_PREFIXES:
        iri = KNOWN_PREFIXES[curie.group(1)] + curie.group(2)
    elif _SCHEME.match(datatype) and is_valid_iri(safe_iri(datatype)):
        iri = safe_iri(datatype)
    else:
        iri = KGS + "datatype-" + local_name(datatype)
    return None if iri == XSD_STRING else iri


def default_ontology() -> tuple[list[OntologyClass], list[OntologyProperty]]:
    """kgstudio's default ontology (read from the package's resources each time; it is small)."""
    import pyoxigraph

    text = files("kgstudio.resources.ontology").joinpath("default.ttl").read_bytes()
    facts: dict[str, dict[str, list[str]]] = {}
    for quad in pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.TURTLE):
        facts.setdefault(quad.subject.value, {}).setdefault(quad.predicate.value, []).append(quad.object.value)

    def name(iri: str) -> str:
        return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def first(iri: str, predicate: str) -> str | None:
        values = facts.get(iri, {}).get(predicate)
        return values[0] if values else None

    def typed(rdf_class: str) -> list[str]:
        return sorted(iri for iri, f in facts.items() if rdf_class in f.get(RDF_TYPE, []))

    classes = [OntologyClass(name(iri), iri, first(iri, RDFS + "label"),
                             name(first(iri, RDFS + "subClassOf") or "") or None, first(iri, RDFS + "comment"))
               for iri in typed(OWL + "Class")]
    properties = []
    for kind, rdf_class in (("object", OWL + "ObjectProperty"), ("data", OWL + "DatatypeProperty")):
        for iri in typed(rdf_class):
            domain, range_ = first(iri, RDFS + "domain"), first(iri, RDFS + "range")
            range_name = None
            if range_ is not None:
                range_name = "xsd:" + name(range_) if range_.startswith(XSD) else name(range_)
            properties.append(OntologyProperty(
                name(iri), iri, kind, name(domain) if domain else None, range_name,
                OWL + "FunctionalProperty" in facts[iri].get(RDF_TYPE, []), first(iri, RDFS + "label")))
    return classes, properties
