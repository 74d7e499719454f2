"""Palettes and mask overlays (numpy / cv2 only)."""
from .overlay import (colorize_mask, denormalize, draw_legend, overlay_mask,  # noqa: F401
                      side_by_side)
from .palette import default_palette, palette_lut, voc_colormap  # noqa: F401
