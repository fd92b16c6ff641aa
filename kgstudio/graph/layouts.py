"""Graph layouts (no Qt): pure functions of the node count and the edges, run off the GUI thread.

Each takes ``(n, src, dst, progress, cancel)`` and returns an ``(n, 2)``
array. Force-directed and hierarchical layouts use networkx; the quick
layout is numpy only and is what a project shows the moment it opens.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx
import numpy as np

from kgstudio.progress import CancelToken, Progress, no_progress

# networkx's spring layout is roughly O(n·e) per iteration: past this it takes minutes.
SPRING_LIMIT = 20_000

LayoutFunction = Callable[[int, np.ndarray, np.ndarray, Progress, CancelToken | None], np.ndarray]


def quick_layout(n: int, src: np.ndarray, dst: np.ndarray,
                 progress: Progress = no_progress, cancel: CancelToken | None = None) -> np.ndarray:
    """A sunflower spiral with connected nodes next to each other (order of a BFS); O(n + e)."""
    if n == 0:
        return np.zeros((0, 2))
    order = _bfs_order(n, src, dst)
    k = np.arange(n, dtype=np.float64)
    radius = np.sqrt(k + 0.5)
    angle = k * 2.399963229728653  # the golden angle: evenly spread, no rings or spokes
    pos = np.empty((n, 2))
    pos[order, 0] = radius * np.cos(angle)
    pos[order, 1] = radius * np.sin(angle)
    return pos


def circular_layout(n: int, src: np.ndarray, dst: np.ndarray,
                    progress: Progress = no_progress, cancel: CancelToken | None = None) -> np.ndarray:
    """Nodes on a circle, connected ones side by side."""
    if n == 0:
        return np.zeros((0, 2))
    order = _bfs_order(n, src, dst)
    angle = np.arange(n) * (2 * np.pi / n)
    radius = max(1.0, n / (2 * np.pi))
    pos = np.empty((n, 2))
    pos[order, 0] = radius * np.cos(angle)
    pos[order, 1] = radius * np.sin(angle)
    return pos


def spring_layout(n: int, src: np.ndarray, dst: np.ndarray,
                  progress: Progress = no_progress, cancel: CancelToken | None = None,
                  iterations: int = 50) -> np.ndarray:
    """Force-directed (Fruchterman–Reingold, networkx), started from the quick layout.

    Runs in steps so it reports progress and can be cancelled; past
    :data:`SPRING_LIMIT` nodes it keeps the quick layout.
    """
    pos = quick_layout(n, src, dst)
    if n < 2 or n > SPRING_LIMIT:
        return pos
    graph = _graph(n, src, dst)
    scale = float(np.sqrt(n))
    current = {i: pos[i] / scale for i in range(n)}
    step = 10
    for done in range(0, iterations, step):
        if cancel is not None:
            cancel.raise_if_cancelled()
        progress(done, iterations, "force-directed layout")
        current = nx.spring_layout(graph, pos=current, iterations=step, seed=7, scale=None)
    progress(iterations, iterations, "force-directed layout")
    out = np.array([current[i] for i in range(n)])
    return out * scale


def hierarchical_layout(n: int, src: np.ndarray, dst: np.ndarray,
                        progress: Progress = no_progress, cancel: CancelToken | None = None) -> np.ndarray:
    """Layers by distance from each component's best-connected node, components side by side."""
    if n == 0:
        return np.zeros((0, 2))
    graph = _graph(n, src, dst)
    pos = np.zeros((n, 2))
    x_offset = 0.0
    components = sorted(nx.connected_components(graph), key=len, reverse=True)
    for done, component in enumerate(components):
        if cancel is not None and done % 100 == 0:
            cancel.raise_if_cancelled()
        root = max(component, key=graph.degree)
        width = 1.0
        for depth, layer in enumerate(nx.bfs_layers(graph, [root])):
            layer = sorted(layer)
            width = max(width, len(layer))
            for i, node in enumerate(layer):
                pos[node] = (x_offset + i - (len(layer) - 1) / 2, -2.0 * depth)
        x_offset += width + 2
        if done % 100 == 0:
            progress(done, len(components), "hierarchical layout")
    # Centre every component on its own column band.
    return pos


LAYOUTS: dict[str, tuple[str, LayoutFunction]] = {
    "spring": ("Force-directed", spring_layout),
    "circular": ("Circular", circular_layout),
    "hierarchical": ("Hierarchical", hierarchical_layout),
    "quick": ("Spiral (instant)", quick_layout),
}


def _graph(n: int, src: np.ndarray, dst: np.ndarray) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(src.tolist(), dst.tolist()))
    graph.remove_edges_from(nx.selfloop_edges(graph))
    return graph


def _bfs_order(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Nodes in breadth-first order, biggest-degree start first (scipy-free, O(n + e))."""
    if len(src) == 0:
        return np.arange(n)
    both_a = np.concatenate([src, dst]).astype(np.int64)
    both_b = np.concatenate([dst, src]).astype(np.int64)
    order_by = np.argsort(both_a, kind="stable")
    neighbours = both_b[order_by]
    starts = np.searchsorted(both_a[order_by], np.arange(n + 1))
    degree = np.diff(starts)
    seen = np.zeros(n, bool)
    out: list[int] = []
    for root in np.argsort(-degree, kind="stable").tolist():
        if seen[root]:
            continue
        seen[root] = True
        queue = [root]
        head = 0
        while head < len(queue):
            node = queue[head]
            head += 1
            for nb in neighbours[starts[node]:starts[node + 1]].tolist():
                if not seen[nb]:
                    seen[nb] = True
                    queue.append(nb)
        out.extend(queue)
    return np.asarray(out, np.int64)
