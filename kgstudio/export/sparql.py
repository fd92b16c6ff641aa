"""``kgstudio push --sparql``: the graph into a SPARQL 1.1 triple store (Virtuoso, Fuseki, Oxigraph, GraphDB, ...).

Two standard ways in, both into ONE named graph:

- Graph Store Protocol (``gsp``, the default): the first request PUTs
  N-Triples to ``URL?graph=IRI`` (replacing that graph), the next ones POST
  (add) the rest, ``batch`` statements a request. ``URL`` is the store's
  graph-store endpoint (Virtuoso ``/sparql-graph-crud``, Fuseki
  ``/DATASET/data``, Oxigraph ``/store``).
- SPARQL 1.1 Update (``update``): ``DROP SILENT GRAPH <IRI>`` and then
  ``INSERT DATA { GRAPH <IRI> { ... } }`` in batches, sent as the ``update``
  form field to the update endpoint (Virtuoso ``/sparql``, Fuseki
  ``/DATASET/update``, Oxigraph ``/update``).

The statements are exactly those of the N-Triples export
(:mod:`kgstudio.export.rdf`), read from the store a batch of entities at a
time and sent as they are read; there are no blank nodes, so batches are
independent. The first request replaces the graph, so pushing twice leaves
the same graph, not two copies. The push never writes the store's default
graph: some stores (Virtuoso) treat it as the union of all graphs, and
replacing it would wipe other data. Without ``graph`` the project's base IRI
names the graph.

A push that stops midway (the network, Ctrl+C) leaves that graph partly
written; pushing again replaces it.

With a ``user``, the push answers the store's challenge with HTTP Digest or
Basic authentication, whichever it asks for (Virtuoso's ``/sparql-auth`` and
``/sparql-graph-crud-auth`` ask for Digest; Fuseki and GraphDB for Basic).
The password is never printed.
"""

from __future__ import annotations

import io
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import httpx

from kgstudio.errors import KgstudioError
from kgstudio.export.formats import ExportContext, ExportReport
from kgstudio.export.output import TextSink
from kgstudio.export.rdf_writers import NTriplesWriter
from kgstudio.export.source import GraphSource
from kgstudio.export.statements import GraphStatements
from kgstudio.progress import CancelToken, Progress, no_progress
from kgstudio.store import Project

PROTOCOLS = ("gsp", "update")
GSP_BATCH = 20_000  # statements a Graph Store request (a few MB)
UPDATE_BATCH = 2_000  # statements an INSERT DATA (stores parse the whole request text at once)


@dataclass(frozen=True)
class SparqlTarget:
    """Where to push: an endpoint URL, the named graph, and which protocol the URL speaks."""

    url: str  # the graph-store endpoint (gsp) or the update endpoint (update)
    graph: str | None = None  # the named graph's IRI; None: the project's base IRI
    protocol: str = "gsp"  # "gsp" or "update"
    timeout: float = 120.0  # seconds per request
    user: str | None = None
    password: str | None = field(default=None, repr=False)


def push_to_sparql(project: Project, target: SparqlTarget, *, status: str = "accepted", provenance: bool = False,
                   batch: int | None = None, progress: Progress | None = None,
                   cancel: CancelToken | None = None) -> ExportReport:
    """Replace ``target.graph`` in the store with the project's graph (see the module docstring).

    Raises :class:`KgstudioError` naming the URL when the store cannot be
    reached or refuses a request; :class:`kgstudio.progress.Cancelled` when
    ``cancel`` is set (between batches).
    """
    if target.protocol not in PROTOCOLS:
        raise KgstudioError(f"unknown SPARQL protocol {target.protocol!r} (one of: {', '.join(PROTOCOLS)})")
    if not _is_http(target.url):
        raise KgstudioError(f"{target.url!r}: not an http(s) URL of a SPARQL endpoint")
    started = time.perf_counter()
    size = max(1, batch or (GSP_BATCH if target.protocol == "gsp" else UPDATE_BATCH))
    with GraphSource.open(project, status, provenance) as source, \
            httpx.Client(timeout=httpx.Timeout(target.timeout, connect=min(target.timeout, 10.0)),
                         auth=_ChallengeAuth(target.user, target.password or "") if target.user else None) as client:
        report = ExportReport(f"sparql-{target.protocol}", None)
        statements = GraphStatements(ExportContext(source, report, progress or no_progress, cancel or CancelToken()))
        graph = target.graph or statements.vocabulary.base_iri
        _check_graph_iri(graph)
        report.target = f"{target.url} graph <{graph}>"
        sender = _Sender(client, target, graph)
        buffer = io.BytesIO()
        sink = TextSink(buffer)
        writer = NTriplesWriter(sink, report, {})
        pending = 0
        for block in statements.blocks():
            before = report.statements
            writer.block(block)
            pending += report.statements - before
            if pending >= size:
                sender.send(_take(sink, buffer))
                pending = 0
        if pending or not sender.requests:  # the last batch; an empty graph still replaces the old one
            sender.send(_take(sink, buffer))
    report.seconds = time.perf_counter() - started
    return report


class _Sender:
    """Sends N-Triples batches: the first one replaces the graph, the others add to it."""

    def __init__(self, client: httpx.Client, target: SparqlTarget, graph: str) -> None:
        self.client, self.target, self.graph = client, target, graph
        self.requests = 0

    def send(self, ntriples: bytes) -> None:
        first = self.requests == 0
        if self.target.protocol == "gsp":
            what = "graph store PUT" if first else "graph store POST"
            self._request(what, "PUT" if first else "POST", params={"graph": self.graph}, content=ntriples,
                          headers={"Content-Type": "application/n-triples"})
        else:
            update = f"INSERT DATA {{ GRAPH <{self.graph}> {{\n{ntriples.decode('utf-8')}}} }}"
            if first:
                update = f"DROP SILENT GRAPH <{self.graph}> ;\n{update}"
            self._request("SPARQL update", "POST", data={"update": update})
        self.requests += 1

    def _request(self, what: str, method: str, **kwargs: Any) -> None:
        url = self.target.url
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise KgstudioError(f"{url}: the SPARQL store did not answer within {self.target.timeout:g} s "
                                f"(request {self.requests + 1}); the graph <{self.graph}> may be partly written, "
                                "push again to replace it") from None
        except httpx.HTTPError as exc:
            raise KgstudioError(f"{url}: cannot reach the SPARQL store ({exc or type(exc).__name__})") from None
        if response.status_code == 401:
            who = f"user {self.target.user!r}" if self.target.user else "no user (give --user and --password)"
            raise KgstudioError(f"{url}: the store refused the {what}: not authorised (HTTP 401) with {who}")
        if response.status_code >= 400:
            raise KgstudioError(f"{url}: the store refused the {what} (HTTP {response.status_code}: "
                                f"{_first_line(response.text) or response.reason_phrase})")


class _ChallengeAuth(httpx.Auth):
    """HTTP Digest or Basic authentication, whichever scheme the store's first 401 names."""

    requires_request_body = True  # a challenged request is sent again, body and all

    def __init__(self, user: str, password: str) -> None:
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self._chosen: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._chosen is not None:
            yield from self._chosen.auth_flow(request)
            return
        response = yield request
        if response.status_code != 401:
            return
        digest = response.headers.get("www-authenticate", "").lower().startswith("digest")
        self._chosen = self._digest if digest else self._basic
        yield from self._chosen.auth_flow(request)


def _take(sink: TextSink, buffer: io.BytesIO) -> bytes:
    sink.flush()
    data = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return data


def _is_http(text: str) -> bool:
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL:
        return False
    return url.scheme in ("http", "https") and bool(url.host)


def _check_graph_iri(iri: str) -> None:
    """An absolute IRI with nothing that could end the ``<...>`` it is written in."""
    if ":" not in iri or any(c in iri for c in '<>"{}|\\^` \n\r\t'):
        raise KgstudioError(f"{iri!r}: not an absolute IRI to name the graph (e.g. https://example.org/my-graph)")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:200] if lines else ""
