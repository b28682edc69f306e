"""CT slices along the needle: oblique axial and sagittal planes that contain the path, with A, B, C and the needle.

The CT is only sampled (trilinear, scipy map_coordinates), never modified or resampled in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..core.volume import CTVolume
from . import colours
from .overlay import Band, Label, Ring, draw_overlay
from .path_geometry import PathGeometry

# A bone window: cortex and cancellous bone stay distinct, soft tissue and skin still show.
WINDOW_LEVEL_HU = 300.0
WINDOW_WIDTH_HU = 1600.0
OUTSIDE_HU = -1000.0  # outside the field of view reads as air
PICTURE_SIZE = 480
MIN_FIELD_MM = 100.0
MARGIN_MM = 25.0  # shown around the path beyond A and C
SCALE_BAR_MM = 10.0
LABEL_SIZE = 16  # pixels: point names, orientation letters, the scale bar's length


@dataclass(frozen=True, eq=False)
class SlicePlane:
    """A square picture plane in RAS: pixel (column, row) centre = centre + (column + 0.5 - size/2) * pixel_mm *
    screen_right + (row + 0.5 - size/2) * pixel_mm * screen_down."""

    name: str
    centre: np.ndarray
    screen_right: np.ndarray
    screen_down: np.ndarray
    pixel_mm: float
    size: int
    tilt_deg: float  # between this plane and the true (frame) axial or sagittal plane

    def to_pixels(self, ras) -> np.ndarray:
        """(n, 3) RAS -> (n, 2) (column, row) pixel coordinates (continuous, 0 at the picture's corner)."""
        rel = np.atleast_2d(np.asarray(ras, dtype=float)) - self.centre
        return np.stack([rel @ self.screen_right, rel @ self.screen_down], axis=1) / self.pixel_mm + self.size / 2.0

    def sample_points(self) -> np.ndarray:
        """(size, size, 3) RAS of the pixel centres."""
        offsets = (np.arange(self.size) + 0.5 - self.size / 2.0) * self.pixel_mm
        return (self.centre + offsets[None, :, None] * self.screen_right + offsets[:, None, None] * self.screen_down)


def _unit(v) -> np.ndarray:
    return np.asarray(v, dtype=float) / np.linalg.norm(v)


def _in_plane(vector, normal) -> np.ndarray:
    return _unit(vector - np.dot(vector, normal) * normal)


def path_planes(path: PathGeometry, *, size: int = PICTURE_SIZE) -> tuple[SlicePlane, SlicePlane]:
    """The oblique axial plane (spanned by the needle and the lateral axis) and the oblique sagittal plane
    (spanned by the needle and the superior axis); both contain A, B and C.

    Axial pictures are shown as radiologists read them (patient's right on the picture's left, anterior up);
    sagittal ones with anterior on the left and superior up.
    """
    d = path.direction
    lateral = np.cross(path.superior, d)
    if np.linalg.norm(lateral) < 1e-6:  # a vertical needle: any lateral direction will do
        lateral = path.right
    lateral = _unit(lateral)
    field = max(MIN_FIELD_MM, float(np.linalg.norm(path.c - path.start)) + 2 * MARGIN_MM)
    centre = (path.start + path.c) / 2.0
    pixel = field / size

    axial_normal = _unit(np.cross(d, lateral))
    up = _in_plane(path.anterior, axial_normal)
    screen_right = _unit(np.cross(up, axial_normal))
    if np.dot(screen_right, path.right) > 0:
        screen_right = -screen_right
    axial = SlicePlane("axial", centre, screen_right, -up, pixel, size, _tilt(axial_normal, path.superior))

    sagittal_normal = lateral  # perpendicular to the needle and to the superior axis
    up = _in_plane(path.superior, sagittal_normal)
    screen_right = _in_plane(-path.anterior, sagittal_normal)
    if np.linalg.norm(np.cross(screen_right, up)) < 1e-6:
        screen_right = _unit(np.cross(up, sagittal_normal))
    screen_right = _unit(screen_right - np.dot(screen_right, up) * up)
    sagittal = SlicePlane("sagittal", centre, screen_right, -up, pixel, size, _tilt(sagittal_normal, path.right))
    return axial, sagittal


def _tilt(normal, reference_normal) -> float:
    cos = abs(float(np.dot(_unit(normal), _unit(reference_normal))))
    return float(np.degrees(np.arccos(min(1.0, cos))))


def sample_ct(ct: CTVolume, plane: SlicePlane) -> np.ndarray:
    """(size, size) float32 HU on the plane (trilinear; air outside the field of view)."""
    ijk = ct.ras_to_ijk_points(plane.sample_points().reshape(-1, 3))
    coordinates = ijk[:, ::-1].T  # voxels are (K, J, I)
    values = ndimage.map_coordinates(ct.voxels, coordinates, order=1, mode="constant", cval=OUTSIDE_HU,
                                     output=np.float32, prefilter=False)
    return values.reshape(plane.size, plane.size)


def windowed_rgb(hu: np.ndarray) -> np.ndarray:
    low = WINDOW_LEVEL_HU - WINDOW_WIDTH_HU / 2.0
    grey = np.clip((hu - low) / WINDOW_WIDTH_HU, 0.0, 1.0)
    grey = np.rint(grey * 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def edge_letters(plane: SlicePlane, path: PathGeometry) -> dict:
    """Orientation letter at each picture edge, from the frame axis the screen direction follows most."""
    axes = {"R": path.right, "A": path.anterior, "S": path.superior}
    opposite = {"R": "L", "A": "P", "S": "I"}

    def letter(direction):
        name = max(axes, key=lambda k: abs(np.dot(direction, axes[k])))
        return name if np.dot(direction, axes[name]) > 0 else opposite[name]

    return {"right": letter(plane.screen_right), "left": letter(-plane.screen_right),
            "bottom": letter(plane.screen_down), "top": letter(-plane.screen_down)}


def slice_picture(ct: CTVolume, plane: SlicePlane, path: PathGeometry, *, needle_diameter_mm: float) -> np.ndarray:
    """(size, size, 3) uint8: the CT on the plane, the needle A->C, rings at A, B, C, orientation letters, a scale bar."""
    picture = windowed_rgb(sample_ct(ct, plane))
    start, c = plane.to_pixels([path.start, path.c])
    bands = [Band(tuple(start), tuple(c), needle_diameter_mm / plane.pixel_mm, colours.NEEDLE, opacity=0.6)]
    rings, labels = [], []
    for name, point in path.points.items():
        centre = plane.to_pixels(point)[0]
        rings.append(Ring(tuple(centre), 7.0, 2.0, colours.POINT_COLOURS[name]))
        labels.append(Label(name, (centre[0] + 8, centre[1] - 8), colours.POINT_COLOURS[name], size=LABEL_SIZE,
                            valign="bottom"))
    labels += _orientation_letters(plane.size, edge_letters(plane, path))
    scale_bar, scale_label = _scale_bar(plane)
    return draw_overlay(picture, bands=bands + [scale_bar], rings=rings, labels=labels + [scale_label])


def _orientation_letters(size: int, letters) -> list:
    middle = size / 2.0
    anchors = {"left": ((6, middle), "left", "middle"), "right": ((size - 6, middle), "right", "middle"),
               "top": ((middle, 6), "centre", "top"), "bottom": ((middle, size - 6), "centre", "bottom")}
    return [Label(letter, anchors[edge][0], colours.TEXT, size=LABEL_SIZE, align=anchors[edge][1],
                  valign=anchors[edge][2]) for edge, letter in letters.items()]


def _scale_bar(plane: SlicePlane):
    length = SCALE_BAR_MM / plane.pixel_mm
    y = plane.size - 14.0
    bar = Band((12.0, y), (12.0 + length, y), 3.0, colours.TEXT)
    return bar, Label(f"{SCALE_BAR_MM:.0f} mm", (12.0 + length + 6, y), colours.TEXT, size=LABEL_SIZE, valign="middle")
