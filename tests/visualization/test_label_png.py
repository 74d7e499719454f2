"""Paletted label PNGs: class ids as pixel values, the palette for viewers."""
import os

import numpy as np
import pytest
from PIL import Image

from densekd.datasets.nyuv2 import read_label
from densekd.visualization.label_png import read_label_png, write_label_png

PALETTE = [(128, 0, 0), (0, 128, 0), (10, 20, 30)]


def test_ids_round_trip_and_viewers_see_the_palette(tmp_path):
    mask = np.array([[0, 1, 2], [2, 255, 0]], dtype=np.int64)
    path = write_label_png(str(tmp_path / 'sub' / 'm.png'), mask, PALETTE)
    with Image.open(path) as image:
        assert image.mode == 'P'
        rgb = np.array(image.convert('RGB'))  # what an image viewer shows
    np.testing.assert_array_equal(read_label_png(path), mask)
    np.testing.assert_array_equal(read_label(path), mask)  # densekd's dataset loader too
    assert tuple(rgb[0, 1]) == PALETTE[1] and tuple(rgb[0, 2]) == PALETTE[2]
    assert tuple(rgb[1, 1]) == (0, 0, 0)  # 255 = ignore is black
    assert os.listdir(tmp_path / 'sub') == ['m.png']  # no temporary file left behind


def test_default_palette_is_voc_and_bad_masks_are_refused(tmp_path):
    path = write_label_png(str(tmp_path / 'm.png'), np.zeros((2, 2), np.uint8))
    with Image.open(path) as image:
        assert tuple(np.array(image.convert('RGB'))[0, 0]) == (128, 0, 0)  # VOC cmap[1]
    with pytest.raises(ValueError, match='0..255'):
        write_label_png(str(tmp_path / 'bad.png'), np.full((2, 2), 300))
    with pytest.raises(ValueError, match='H×W'):
        write_label_png(str(tmp_path / 'bad.png'), np.zeros((2, 2, 3)))
    assert not (tmp_path / 'bad.png').exists()
    Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / 'rgb.png')
    with pytest.raises(ValueError, match='mode RGB'):
        read_label_png(str(tmp_path / 'rgb.png'))
