"""A tiny 5x7 bitmap font for labels drawn into pictures (points, orientation letters, scale bars)."""

from __future__ import annotations

import numpy as np

# Only the characters the pictures need; rows top to bottom, '#' = ink.
_GLYPHS = {
    "A": (".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"),
    "B": ("####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."),
    "C": (".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."),
    "I": (".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "L": ("#....", "#....", "#....", "#....", "#....", "#....", "#####"),
    "P": ("####.", "#...#", "#...#", "####.", "#....", "#....", "#...."),
    "R": ("####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"),
    "S": (".####", "#....", "#....", ".###.", "....#", "....#", "####."),
    "m": (".....", ".....", "##.#.", "#.#.#", "#.#.#", "#.#.#", "#.#.#"),
    "0": (".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."),
    "1": ("..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."),
    "2": (".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"),
    "3": ("####.", "....#", "....#", ".###.", "....#", "....#", "####."),
    "4": ("...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."),
    "5": ("#####", "#....", "####.", "....#", "....#", "#...#", ".###."),
    "6": (".###.", "#....", "#....", "####.", "#...#", "#...#", ".###."),
    "7": ("#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."),
    "8": (".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."),
    "9": (".###.", "#...#", "#...#", ".####", "....#", "....#", ".###."),
    ".": (".....", ".....", ".....", ".....", ".....", ".##..", ".##.."),
    " ": (".....",) * 7,
}
GLYPH_WIDTH, GLYPH_HEIGHT = 5, 7


def text_mask(text: str, *, scale: int = 2) -> np.ndarray:
    """(rows, columns) bool ink of a text line, one blank column between characters."""
    missing = sorted(set(text) - set(_GLYPHS))
    if missing:
        raise ValueError(f"the picture font has no glyph for {missing}")
    columns = []
    for index, char in enumerate(text):
        if index:
            columns.append(np.zeros((GLYPH_HEIGHT, 1), dtype=bool))
        columns.append(np.array([[c == "#" for c in row] for row in _GLYPHS[char]], dtype=bool))
    ink = np.hstack(columns) if columns else np.zeros((GLYPH_HEIGHT, 0), dtype=bool)
    return np.repeat(np.repeat(ink, scale, axis=0), scale, axis=1)
