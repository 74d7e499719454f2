"""Tests for densekd.visualization (palette LUT, overlays, panels, legend, denormalize)."""
import numpy as np
import pytest
import torch

from densekd.visualization import (colorize_mask, default_palette, denormalize, draw_legend,
                                   overlay_mask, side_by_side, voc_colormap)

# NYUv2-13 colours (the PASCAL VOC colour map): class k -> VOC cmap[k + 1].
NYU_RGB = [(128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128), (0, 128, 128),
           (128, 128, 128), (64, 0, 0), (192, 0, 0), (64, 128, 0), (192, 128, 0), (64, 0, 128),
           (192, 0, 128)]


def test_voc_colormap_matches_reference():
    cmap = voc_colormap()
    assert cmap.shape == (256, 3) and cmap.dtype == np.uint8
    assert tuple(cmap[0]) == (0, 0, 0)
    assert [tuple(c) for c in default_palette(13)] == NYU_RGB


def test_colorize_mask_palette_and_void():
    mask = np.array([[0, 1, 255], [12, -1, 13]])
    out = colorize_mask(mask, NYU_RGB)
    assert out.shape == (2, 3, 3) and out.dtype == np.uint8
    assert tuple(out[0, 0]) == NYU_RGB[0]
    assert tuple(out[0, 1]) == NYU_RGB[1]
    assert tuple(out[1, 0]) == NYU_RGB[12]
    for yx in [(0, 2), (1, 1), (1, 2)]:  # 255, negative and out-of-palette ids -> black
        assert tuple(out[yx]) == (0, 0, 0)
    # Tensors are accepted too.
    np.testing.assert_array_equal(colorize_mask(torch.as_tensor(mask), NYU_RGB), out)


def test_overlay_blending_values():
    image = np.full((2, 2, 3), 100, dtype=np.uint8)
    mask = np.array([[0, 1], [255, 0]])
    palette = [(200, 0, 50), (0, 255, 0)]
    out = overlay_mask(image, mask, palette, alpha=0.5)
    assert tuple(out[0, 0]) == (150, 50, 75)   # 0.5*100 + 0.5*(200, 0, 50)
    assert tuple(out[0, 1]) == (50, 178, 50)   # 0.5*100 + 0.5*(0, 255, 0) = 177.5 -> 178
    assert tuple(out[1, 0]) == (100, 100, 100)  # void keeps the image
    np.testing.assert_array_equal(overlay_mask(image, mask, palette, alpha=0.0), image)
    assert tuple(overlay_mask(image, mask, palette, alpha=1.0)[0, 0]) == (200, 0, 50)
    with pytest.raises(ValueError, match='does not match'):
        overlay_mask(image, np.zeros((3, 2), dtype=np.int64), palette)


def test_side_by_side_shapes():
    a = np.zeros((20, 30, 3), dtype=np.uint8)
    b = np.zeros((10, 10, 3), dtype=np.uint8)  # resized to height 20 -> width 20
    out = side_by_side([a, b], pad=4)
    assert out.shape == (20, 30 + 4 + 20, 3) and out.dtype == np.uint8
    assert (out[:, 30:34] == 255).all()  # white gap
    titled = side_by_side([a, b], titles=['image', 'pred'], pad=4)
    assert titled.shape[1] == out.shape[1] and titled.shape[0] > 20
    band = titled[:titled.shape[0] - 20, :30]
    assert (band < 255).any()  # some text was drawn
    with pytest.raises(ValueError):
        side_by_side([a, b], titles=['only one'])


def test_draw_legend():
    names = [f'class{k}' for k in range(13)]
    full = draw_legend(names, NYU_RGB)
    assert full.ndim == 3 and full.shape[2] == 3 and full.size > 0
    some = draw_legend(names, NYU_RGB, present=[0, 4, 255])
    assert some.shape[0] < full.shape[0]  # one column, fewer rows
    colours = {tuple(c) for c in some.reshape(-1, 3)}
    assert NYU_RGB[0] in colours and NYU_RGB[4] in colours and NYU_RGB[1] not in colours
    wide = draw_legend(names, NYU_RGB, width=600)
    assert wide.shape[1] == 600 and wide.shape[0] < full.shape[0]
    empty = draw_legend(names, NYU_RGB, present=[255], width=100)
    assert empty.shape[1] == 100 and empty.shape[0] > 0


def test_denormalize_inverts_albumentations_normalize():
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    img = np.random.default_rng(0).integers(0, 256, (5, 7, 3)).astype(np.uint8)
    norm = (img / 255.0 - np.array(mean)) / np.array(std)
    x = torch.from_numpy(norm.transpose(2, 0, 1).astype(np.float32))
    out = denormalize(x, mean, std)
    assert out.shape == (5, 7, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, img)
