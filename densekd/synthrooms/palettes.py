"""Label ids and colours: the NYUv2-13 classes, the shared colour palettes and their mixtures.

Colours are drawn from palette *families* shared by every class; a class only changes the mixing
weights, and every class can draw from every family, so colour alone never identifies a class.
"""
from __future__ import annotations

import numpy as np

__all__ = ['BED', 'BOOKS', 'CEILING', 'CHAIR', 'FLOOR', 'FURN', 'OBJ', 'PICT', 'SOFA', 'TABLE',
           'TV', 'WALL', 'WINDOW', 'VOID', 'NUM_CLASSES', 'PALETTES', 'MIXES', 'MIX_CUMULATIVE',
           'PAGE_EDGE_COLOR']

# NYUv2-13 label ids (methods.md §7.2).
BED, BOOKS, CEILING, CHAIR, FLOOR, FURN, OBJ, PICT, SOFA, TABLE, TV, WALL, WINDOW = range(13)
VOID = 255
NUM_CLASSES = 13

#: Palette families (sRGB 0..1).
PALETTES: dict[str, np.ndarray] = {
    'paint': np.array([
        (0.93, 0.92, 0.88), (0.95, 0.94, 0.92), (0.90, 0.86, 0.78), (0.85, 0.80, 0.70),
        (0.80, 0.80, 0.80), (0.70, 0.72, 0.74), (0.78, 0.85, 0.90), (0.75, 0.85, 0.76),
        (0.95, 0.90, 0.70), (0.93, 0.80, 0.78), (0.82, 0.78, 0.88), (0.60, 0.70, 0.75),
        (0.75, 0.55, 0.45), (0.55, 0.65, 0.55), (0.96, 0.85, 0.60), (0.88, 0.88, 0.84)]),
    'wood': np.array([
        (0.80, 0.62, 0.42), (0.88, 0.74, 0.52), (0.62, 0.42, 0.26), (0.45, 0.30, 0.19),
        (0.30, 0.20, 0.13), (0.55, 0.27, 0.17), (0.70, 0.55, 0.40), (0.60, 0.55, 0.50),
        (0.22, 0.15, 0.11), (0.75, 0.66, 0.55)]),
    'fabric': np.array([
        (0.55, 0.55, 0.57), (0.30, 0.30, 0.32), (0.75, 0.68, 0.58), (0.88, 0.85, 0.78),
        (0.20, 0.25, 0.45), (0.25, 0.40, 0.70), (0.65, 0.15, 0.15), (0.45, 0.12, 0.15),
        (0.20, 0.40, 0.25), (0.45, 0.48, 0.25), (0.80, 0.62, 0.20), (0.45, 0.32, 0.22),
        (0.92, 0.92, 0.92), (0.85, 0.60, 0.65), (0.15, 0.50, 0.50), (0.42, 0.30, 0.55)]),
    'neutral': np.array([
        (0.95, 0.95, 0.95), (0.85, 0.85, 0.83), (0.60, 0.60, 0.60), (0.35, 0.35, 0.36),
        (0.15, 0.15, 0.16), (0.07, 0.07, 0.08), (0.72, 0.74, 0.76), (0.50, 0.48, 0.45)]),
    'vivid': np.array([
        (0.85, 0.15, 0.12), (0.95, 0.50, 0.10), (0.95, 0.85, 0.15), (0.20, 0.65, 0.25),
        (0.15, 0.35, 0.80), (0.50, 0.20, 0.65), (0.90, 0.40, 0.60), (0.10, 0.70, 0.75)]),
}
#: Family weights per kind of surface (see :meth:`~.scene.Scene.color`).
MIXES = {
    'wall': dict(paint=0.82, neutral=0.08, fabric=0.05, wood=0.03, vivid=0.02),
    'ceiling': dict(paint=0.75, neutral=0.2, wood=0.05),
    'floor': dict(wood=0.45, neutral=0.2, fabric=0.2, paint=0.15),
    'furn': dict(wood=0.45, neutral=0.3, paint=0.2, fabric=0.03, vivid=0.02),
    'soft': dict(fabric=0.6, neutral=0.2, paint=0.1, vivid=0.05, wood=0.05),
    'chair': dict(wood=0.35, neutral=0.3, fabric=0.2, vivid=0.1, paint=0.05),
    'table': dict(wood=0.55, neutral=0.3, paint=0.1, vivid=0.05),
    'any': dict(wood=0.2, neutral=0.2, paint=0.2, fabric=0.2, vivid=0.2),
    'book': dict(vivid=0.35, fabric=0.3, neutral=0.15, paint=0.2),
    'frame': dict(wood=0.4, neutral=0.5, paint=0.1),
}
#: Per mixture: its families and their cumulative probabilities.
MIX_CUMULATIVE = {k: (list(m), np.cumsum(list(m.values())) / sum(m.values()))
                  for k, m in MIXES.items()}
#: Linear-RGB colour of the page edges on top of books.
PAGE_EDGE_COLOR = np.array([0.85, 0.82, 0.72]) ** 2.2
