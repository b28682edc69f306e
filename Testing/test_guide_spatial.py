"""The guide checks' fast spatial paths against brute force on constructed meshes: box candidates, ray hits,
self-intersecting face pairs (every pair tested, with an independent crossing test) and the skin offsets."""

import numpy as np
import pytest

from PVPGuideLib.guide.booleans import to_triangle_mesh
from PVPGuideLib.guide.checks import wall_thickness
from PVPGuideLib.guide.heightfield import HeightGrid, upper_envelope
from PVPGuideLib.guide.intersections import self_intersecting_pairs
from PVPGuideLib.guide.sleeve import cylinder
from PVPGuideLib.guide.spatial import TriangleGrid, first_hits

_EPS = 1e-7  # strictly inside, as the check counts a crossing


def _rotation(seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def _crossings(p, q, a, b, c):
    """(k,) segment p->q crosses triangle abc strictly inside both: solved as a 3 x 3 system per row."""
    m = np.stack([q - p, a - b, a - c], axis=2)
    ok = np.abs(np.linalg.det(m)) > 1e-12
    x = np.zeros_like(p)
    x[ok] = np.linalg.solve(m[ok], (a - p)[ok][..., None])[..., 0]
    t, u, w = x[:, 0], x[:, 1], x[:, 2]
    return ok & (t > _EPS) & (t < 1 - _EPS) & (u > _EPS) & (w > _EPS) & (u + w < 1 - _EPS)


def _brute_force_pairs(v, f):
    """{(a, b): shared corners} of the crossing pairs, every face pair tested: an edge of either face not touching
    the other crosses it; faces sharing an edge folded flat onto each other."""
    i, j = np.triu_indices(len(f), 1)
    fa, fb = f[i], f[j]
    shared = (fa[:, :, None] == fb[:, None, :]).any(axis=2).sum(axis=1)
    bad = np.zeros(len(i), dtype=bool)
    for one, other in ((fa, fb), (fb, fa)):
        for s, e in ((0, 1), (1, 2), (2, 0)):
            # An edge with an end on the other face meets it there, at its border: it cannot cross it.
            touches = (one[:, [s]] == other).any(axis=1) | (one[:, [e]] == other).any(axis=1)
            bad |= ~touches & _crossings(v[one[:, s]], v[one[:, e]], v[other[:, 0]], v[other[:, 1]], v[other[:, 2]])
    na = np.cross(v[fa[:, 1]] - v[fa[:, 0]], v[fa[:, 2]] - v[fa[:, 0]])
    nb = np.cross(v[fb[:, 1]] - v[fb[:, 0]], v[fb[:, 2]] - v[fb[:, 0]])
    cosine = np.einsum("ij,ij->i", na, nb) / (np.linalg.norm(na, axis=1) * np.linalg.norm(nb, axis=1))
    bad |= (shared == 2) & (cosine < -1 + 1e-9)
    return {(int(a), int(b)): int(n) for a, b, n in zip(i[bad], j[bad], shared[bad])}


def _two_tubes():
    """Two closed tubes crossing each other at an angle, one mesh (non-adjacent faces cross along two loops)."""
    a = to_triangle_mesh(cylinder([0, 0, -10], [0, 0, 10], 3.0, segments=24, phase_axis=[1, 0, 0]))
    b = to_triangle_mesh(cylinder([-10, 1, 2], [10, -1, -2], 2.0, segments=20, phase_axis=[0, 0, 1]))
    return np.vstack([a.vertices, b.vertices]), np.vstack([a.faces, b.faces + len(a.vertices)])


def _pushed_sheet():
    """A bumpy sheet with one vertex dragged across it past its neighbours: its fan, lying in the sheet, crosses
    faces that share a vertex with it and faces that do not; and one face folded flat back over its neighbour."""
    n = 7
    u = np.arange(n, dtype=float)
    uu, vv = np.meshgrid(u, u)
    ww = 0.05 * np.sin(1.3 * uu) * np.cos(0.9 * vv)  # no two faces coplanar
    v = np.column_stack([uu.ravel(), vv.ravel(), ww.ravel()])
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    f = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    v[idx[3, 3]] += [2.5, 0.4, 0.0]
    # A separate flat pair: the second face's apex on the first's side of their shared edge.
    base = len(v)
    v = np.vstack([v, [[10, 0, 0], [11, 0, 0], [10.3, 1, 0], [10.6, 0.8, 0]]])
    f = np.vstack([f, [[base, base + 1, base + 2], [base + 1, base, base + 3]]])
    return v, f


@pytest.mark.parametrize("make", [_two_tubes, _pushed_sheet])
@pytest.mark.parametrize("seed", [0, 1])
# The check's own cell size; one so small that every face is "large" (looks up partners through its plane's
# cells), and one so large that no face is (paired within cells).
@pytest.mark.parametrize("cell_mm", [None, 0.3, 100.0])
def test_self_intersecting_pairs_match_brute_force(make, seed, cell_mm):
    v, f = make()
    v = v @ _rotation(seed).T + [40.0, -25.0, 300.0]  # away from the origin, as a plate in RAS is
    expected = _brute_force_pairs(v, f)
    found = {(int(a), int(b)) for a, b in self_intersecting_pairs(v, f, cell_mm=cell_mm)}
    assert found == set(expected)
    # The constructed meshes exercise what the check distinguishes: crossings of unrelated faces, of faces
    # sharing a corner, and a fold.
    assert set(expected.values()) == ({0} if make is _two_tubes else {0, 1, 2})


def test_a_clean_closed_mesh_has_no_crossing_pairs():
    mesh = to_triangle_mesh(cylinder([0, 0, 0], [0, 0, 30], 4.0, segments=48, phase_axis=[1, 0, 0]))
    assert len(self_intersecting_pairs(mesh.vertices, mesh.faces)) == 0
    assert len(_brute_force_pairs(mesh.vertices, mesh.faces)) == 0


@pytest.mark.parametrize("cell", [0.5, 2.0, 7.0])
def test_box_candidates_are_exactly_the_overlapping_boxes(cell):
    v, f = _two_tubes()
    grid = TriangleGrid(v, f, cell_mm=cell)
    rng = np.random.default_rng(3)
    lo = rng.uniform(v.min(axis=0) - 2, v.max(axis=0), size=(60, 3))
    hi = lo + rng.uniform(0.0, 6.0, size=(60, 3))
    box, tri = grid.candidates(lo, hi)
    p = v[f]
    overlap = np.all((p.min(axis=1)[None] <= hi[:, None]) & (p.max(axis=1)[None] >= lo[:, None]), axis=2)
    assert set(zip(box.tolist(), tri.tolist())) == set(zip(*[x.tolist() for x in np.nonzero(overlap)]))


def test_first_hits_match_every_face_tested():
    v, f = _two_tubes()
    rng = np.random.default_rng(5)
    origins = rng.uniform(-8, 8, size=(200, 3))
    directions = rng.normal(size=(200, 3))
    directions /= np.linalg.norm(directions, axis=1)[:, None]
    t, hit = first_hits(TriangleGrid(v, f, cell_mm=2.0), origins, directions, 6.0)
    k = np.repeat(np.arange(200), len(f))
    tri = np.tile(np.arange(len(f)), 200)
    m = np.stack([directions[k] * 6.0, v[f[tri, 0]] - v[f[tri, 1]], v[f[tri, 0]] - v[f[tri, 2]]], axis=2)
    ok = np.abs(np.linalg.det(m)) > 1e-12
    x = np.full((len(k), 3), -1.0)
    x[ok] = np.linalg.solve(m[ok], (v[f[tri, 0]] - origins[k])[ok][..., None])[..., 0]
    inside = ok & (x[:, 0] >= 0) & (x[:, 0] <= 1) & (x[:, 1] >= 0) & (x[:, 2] >= 0) & (x[:, 1] + x[:, 2] <= 1)
    expected = np.full(200, np.inf)
    np.minimum.at(expected, k[inside], 6.0 * x[inside, 0])
    assert np.array_equal(np.isfinite(t), np.isfinite(expected)) and np.any(np.isfinite(t))
    assert np.allclose(t[np.isfinite(t)], expected[np.isfinite(expected)], atol=1e-9)


def test_wall_thickness_does_not_depend_on_the_grid_it_is_given():
    outer = cylinder([0, 0, 0], [0, 0, 30], 4.0, segments=48, phase_axis=[1, 0, 0])
    inner = cylinder([0, 0, -1], [0, 0, 31], 1.6, segments=48, phase_axis=[1, 0, 0])
    tube = to_triangle_mesh(outer - inner)
    alone = wall_thickness(tube)
    shared = wall_thickness(tube, grid=TriangleGrid(tube.vertices, tube.faces, cell_mm=0.7))
    assert alone.min_mm == pytest.approx(2.4, abs=1e-3)  # 4 - 1.6 between the tubes' flat facets
    assert (shared.min_mm, shared.measured) == (alone.min_mm, alone.measured)


def _bumpy_skin(n=25):
    """A skin seen from above with ridges (convex edges, whose cylinders make the offset there) and valleys,
    slopes up to 60 degrees."""
    u = np.arange(n, dtype=float)
    uu, vv = np.meshgrid(u, u)
    ww = 2.0 * np.sin(0.7 * uu) * np.cos(0.5 * vv) + 0.3 * uu
    v = np.column_stack([uu.ravel(), vv.ravel(), ww.ravel()])
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    return v, np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])


@pytest.mark.parametrize("radius", [0.2, 3.2])
def test_skin_offset_equals_every_face_edge_and_vertex_evaluated_at_every_node(radius):
    from PVPGuideLib.guide.heightfield import _primitives

    v, f = _bumpy_skin()
    grid = HeightGrid.covering([3, 3], [21, 21], 0.35)
    nodes = grid.nodes_uv
    every = np.full(len(nodes), -np.inf)
    for kernel, lo, _, data in _primitives(v, f, radius):  # no boxes, no bands: each primitive at each node
        count = len(lo)
        prim = np.repeat(np.arange(count), len(nodes))
        node = np.tile(np.arange(len(nodes)), count)
        every = np.maximum(every, np.max(kernel(data, prim, nodes[node], radius).reshape(count, -1), axis=0))
    assert np.array_equal(upper_envelope(v, f, grid, radius).ravel(), every)


@pytest.mark.parametrize("radius", [0.2, 3.2])
def test_skin_offset_is_the_top_of_the_skin_grown_by_the_radius(radius):
    # Independent of the offset's primitives: the skin sampled densely, and the highest point within `radius`
    # of a sample above each node (a lower bound of the true offset, close to it).
    v, f = _bumpy_skin()
    grid = HeightGrid.covering([3, 3], [21, 21], 1.3)
    nodes = grid.nodes_uv
    s = np.linspace(0, 1, 21)
    bu, bv = np.meshgrid(s, s)
    bu, bv = bu[bu + bv <= 1], bv[bu + bv <= 1]
    p = v[f]
    pts = (p[:, None, 0] + bu[None, :, None] * (p[:, None, 1] - p[:, None, 0])
           + bv[None, :, None] * (p[:, None, 2] - p[:, None, 0])).reshape(-1, 3)
    sampled = np.full(len(nodes), -np.inf)
    for k, q in enumerate(nodes):
        d2 = ((pts[:, :2] - q) ** 2).sum(axis=1)
        near = d2 <= radius**2
        sampled[k] = np.max(pts[near, 2] + np.sqrt(radius**2 - d2[near]))
    offset = upper_envelope(v, f, grid, radius).ravel()
    assert np.all(offset >= sampled - 1e-9)
    # Samples 0.1 mm apart along faces at most 60 degrees steep: the true top is within a few tenths above.
    assert np.all(offset <= sampled + 0.3)


def test_nearest_distances_match_every_face_tested():
    from PVPGuideLib.guide.spatial import closest_points_on_triangles, nearest_distances

    v, f = _two_tubes()
    rng = np.random.default_rng(7)
    points = rng.uniform(-12, 12, size=(300, 3))
    found = nearest_distances(TriangleGrid(v, f, cell_mm=2.0), points, search_mm=4.0)
    k = np.repeat(np.arange(len(points)), len(f))
    tri = np.tile(np.arange(len(f)), len(points))
    d = np.linalg.norm(closest_points_on_triangles(points[k], v[f[tri, 0]], v[f[tri, 1]], v[f[tri, 2]]) - points[k],
                       axis=1).reshape(len(points), len(f)).min(axis=1)
    expected = np.where(d <= 4.0, d, np.inf)
    # Near (within the first half-cell search), farther, and beyond the search: all three occur.
    assert np.any(d < 1.0) and np.any((d > 1.0) & (d <= 4.0)) and np.any(d > 4.0)
    assert np.array_equal(found, expected)
