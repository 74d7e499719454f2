"""tools/browse_dataset.py: labelled SynthRooms, an OOD pool and a generator, as real PNGs."""
import textwrap

import cv2
import numpy as np
import pytest
import torch

from densekd.datasets.nyuv2 import NYUV2_CLASSES, NYUV2_PALETTE
from densekd.visualization import colorize_mask, denormalize, draw_legend
from densekd.visualization.dataset_browser import BORDER, build_dataset, grid_shape
from tests.helpers import load_tool, tiny_data_body, write_config

TEACHER = 'teacher/deeplabv3plus_r18_synthrooms-96x128.py'
DFAD = 'dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'
NORM = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))


def browse(tmp_path, *args):
    out = tmp_path / f'grid_{len(list(tmp_path.glob("*.png")))}.png'
    load_tool('browse_dataset').main([*map(str, args), '--out', str(out)])
    img = cv2.imread(str(out))
    assert img is not None
    return img[..., ::-1]  # RGB


def test_grid_shape():
    assert grid_shape(16) == (4, 4) and grid_shape(5) == (2, 3) and grid_shape(1) == (1, 1)
    assert grid_shape(5, cols=5) == (1, 5) and grid_shape(3, cols=8) == (1, 3)
    with pytest.raises(ValueError):
        grid_shape(0)


def test_labelled_split_images_above_masks_in_the_palette(synthrooms_root, tmp_path):
    from densekd.utils.config import load_config
    cfg_path = write_config(tmp_path, TEACHER, tiny_data_body(synthrooms_root))
    grid = browse(tmp_path, cfg_path, '--split', 'val', '-n', 5)
    rows, cols = grid_shape(5)  # 2 x 3, the last tile blank
    tile_h, tile_w = 2 * 64 + 2 * BORDER, 64 + 2 * BORDER  # image above mask, framed
    assert grid.shape[1] == cols * tile_w
    dataset = build_dataset(load_config(cfg_path), 'val')  # the test pipeline: deterministic
    items = [dataset[k] for k in range(5)]
    present = np.unique(np.concatenate([it['seg'].numpy().ravel() for it in items]))
    legend = draw_legend(NYUV2_CLASSES, NYUV2_PALETTE, present=present, width=grid.shape[1])
    assert grid.shape[0] == rows * tile_h + legend.shape[0]
    assert np.array_equal(grid[rows * tile_h:], legend)
    for k, item in enumerate(items):
        r, c = divmod(k, cols)
        y, x = r * tile_h + BORDER, c * tile_w + BORDER
        image, mask = grid[y:y + 64, x:x + 64], grid[y + 64:y + 128, x:x + 64]
        assert np.array_equal(image, denormalize(item['inputs'], NORM['mean'], NORM['std']))
        assert np.array_equal(mask, colorize_mask(item['seg'], NYUV2_PALETTE))
    blank = grid[tile_h:2 * tile_h, 2 * tile_w:3 * tile_w]
    assert (blank == 255).all()


def test_ood_pool_images_without_masks_or_legend(synthrooms_root, tmp_path):
    cfg_path = write_config(tmp_path, TEACHER, tiny_data_body(synthrooms_root) + textwrap.dedent(
        """
        ood_dataset = dict(num_samples=8)
        """))
    grid = browse(tmp_path, cfg_path, '--split', 'ood', '-n', 4, '--scale', 2)
    # the SynthRooms family's pool: 96x128 crops of the bundled photos, 2x2, scaled twice
    assert grid.shape == (2 * (2 * 96 + 2 * BORDER), 2 * (2 * 128 + 2 * BORDER), 3)
    assert grid[BORDER:BORDER + 192, BORDER:BORDER + 256].std() > 5  # a photo, not blank


def generator_config(tmp_path, synthrooms_root, ngf=8):
    return write_config(tmp_path, DFAD, tiny_data_body(synthrooms_root) + textwrap.dedent(f"""
        model = dict(generator=dict(ngf={ngf}, img_size=(64, 64)))
        train_dataloader = dict(dataset=dict(_delete_=True, type='NoDataDataset'))
        """))


def test_generator_random_init_and_checkpoint(synthrooms_root, tmp_path):
    from densekd.utils.config import load_config
    from densekd.visualization.dataset_browser import build_generator
    cfg_path = generator_config(tmp_path, synthrooms_root)
    random_init = browse(tmp_path, cfg_path, '-n', 4)  # the default split of a DFAD config
    assert random_init.shape == (2 * 68, 2 * 68, 3)
    assert browse(tmp_path, cfg_path, '-n', 4, '--seed', 0).tolist() == random_init.tolist()
    # A training checkpoint with other generator weights draws other images from the same z.
    trained = build_generator(load_config(cfg_path), seed=1)
    ckpt = tmp_path / 'iter_3.pth'
    torch.save({'state_dict': {f'generator.{k}': v for k, v in trained.state_dict().items()},
                'meta': {}}, ckpt)
    from_ckpt = browse(tmp_path, cfg_path, '-n', 4, '--checkpoint', ckpt)
    assert from_ckpt.shape == random_init.shape
    assert np.abs(from_ckpt.astype(int) - random_init.astype(int)).mean() > 1
    # ... and one of another architecture is refused, naming the file.
    with pytest.raises(ValueError, match=str(ckpt)):
        build_generator(load_config(generator_config(tmp_path, synthrooms_root, ngf=16)),
                        checkpoint=str(ckpt))


def test_bad_requests_are_clear_errors(synthrooms_root, tmp_path):
    teacher = write_config(tmp_path, TEACHER, tiny_data_body(synthrooms_root))
    dfad = generator_config(tmp_path, synthrooms_root)
    tool = load_tool('browse_dataset')
    with pytest.raises(SystemExit, match='no model.generator'):
        tool.main([teacher, '--split', 'generator', '--out', str(tmp_path / 'a.png')])
    with pytest.raises(SystemExit, match='NoDataDataset items hold no images.*--split generator'):
        tool.main([dfad, '--split', 'train', '--out', str(tmp_path / 'b.png')])
    with pytest.raises(SystemExit, match='does not exist'):
        tool.main([dfad, '--checkpoint', str(tmp_path / 'nope.pth'),
                   '--out', str(tmp_path / 'c.png')])
    assert not list(tmp_path.glob('*.png'))
