"""Plane sections of a closed triangle mesh as closed loops (chained through the mesh's own edges)."""

from __future__ import annotations

import numpy as np


def signed_area(polygon: np.ndarray) -> float:
    """Area (mm^2) of a closed (n, 2) polygon, positive when it turns counter-clockwise (shoelace formula)."""
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def section_loops(vertices: np.ndarray, faces: np.ndarray, origin, normal) -> list[np.ndarray]:
    """Closed loops (k, 3) where the plane through origin with the given normal cuts the mesh.

    Each cut point lies on a mesh edge and is identified by that edge, so loops chain exactly, without
    rounding. Vertices lying on the plane count as on its positive side (a consistent tie-break).
    """
    v = np.asarray(vertices, dtype=float)
    f = np.asarray(faces, dtype=np.int64)
    s = (v - np.asarray(origin, dtype=float)) @ np.asarray(normal, dtype=float)
    positive = s >= 0
    side = positive[f]
    cut = ~(side.all(axis=1) | (~side).all(axis=1))
    fc = f[cut]
    n = len(v)
    ends = []
    for i, j in ((0, 1), (1, 2), (2, 0)):
        crosses = positive[fc[:, i]] != positive[fc[:, j]]
        key = np.minimum(fc[:, i], fc[:, j]) * n + np.maximum(fc[:, i], fc[:, j])
        ends.append(np.where(crosses, key, -1))
    ends = np.column_stack(ends)
    pairs = np.sort(ends, axis=1)[:, 1:]  # each cut face crosses exactly two of its edges
    links: dict[int, list[int]] = {}
    for k, (a, b) in enumerate(pairs.tolist()):
        links.setdefault(a, []).append(k)
        links.setdefault(b, []).append(k)
    used = np.zeros(len(pairs), dtype=bool)
    loops = []
    for start in range(len(pairs)):
        if used[start]:
            continue
        first, current = int(pairs[start, 0]), int(pairs[start, 1])
        chain, used[start] = [first], True
        while current != first:
            chain.append(current)
            nxt = [k for k in links.get(current, []) if not used[k]]
            if not nxt:
                break
            used[nxt[0]] = True
            a, b = pairs[nxt[0]]
            current = int(b if a == current else a)
        if current == first and len(chain) >= 3:
            loops.append(_edge_points(v, s, np.asarray(chain), n))
    return loops


def _edge_points(v, s, keys, n):
    i, j = keys // n, keys % n
    t = s[i] / (s[i] - s[j])
    return v[i] + t[:, None] * (v[j] - v[i])
