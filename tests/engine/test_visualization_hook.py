"""Tests for SegVisualizationHook with a minimal fake runner writing real PNG files."""
import os.path as osp
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from densekd.engine.visualization_hook import SegVisualizationHook, sanitize_name
from densekd.registry import HOOKS
from densekd.visualization import side_by_side
from densekd.visualization.label_png import read_label_png

CLASSES = ('bed', 'books', 'ceiling')
PALETTE = [(128, 0, 0), (0, 128, 0), (128, 128, 0)]
IMG_RGB = (10, 200, 30)


def _runner(tmp_path, metainfo=None):
    meta = dict(classes=CLASSES, palette=PALETTE) if metainfo is None else metainfo
    loader = SimpleNamespace(dataset=SimpleNamespace(metainfo=meta))
    return SimpleNamespace(work_dir=str(tmp_path / 'work'), timestamp='20260101_000000', iter=7,
                           test_dataloader=loader, val_dataloader=loader)


def _image(tmp_path, name='room_0001.jpg', hw=(40, 60)):
    img = np.zeros((*hw, 3), dtype=np.uint8)
    img[:] = IMG_RGB
    path = tmp_path / name
    # PNG content regardless of the extension keeps colours exact (cv2 sniffs the format).
    ok, buf = cv2.imencode('.png', cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    assert ok
    path.write_bytes(buf.tobytes())
    return str(path)


def _sample(img_path):
    pred = torch.zeros(20, 30, dtype=torch.int64)
    pred[:, 15:] = 1
    gt = torch.full((20, 30), 2, dtype=torch.int64)
    gt[0, 0] = 255
    return dict(pred=pred, gt=gt, img_path=img_path)


def _read_rgb(path):
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _blend(color, alpha=0.5):
    return tuple(int(np.rint(a * (1 - alpha) + b * alpha)) for a, b in zip(IMG_RGB, color))


def test_draws_panels_and_labels(tmp_path):
    runner = _runner(tmp_path)
    img_path = _image(tmp_path)
    label_dir = str(tmp_path / 'labels')
    hook = HOOKS.build(dict(type='SegVisualizationHook', draw=True, label_out_dir=label_dir))
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, data_batch=None, outputs=[_sample(img_path)])

    vis_path = osp.join(runner.work_dir, runner.timestamp, 'vis', 'room_0001.png')
    canvas = _read_rgb(vis_path)
    titles = ['image', 'ground truth', 'prediction']
    grid = side_by_side([np.zeros((20, 30, 3), np.uint8)] * 3, titles)
    assert canvas.shape[1] == grid.shape[1] == 3 * 30 + 2 * 4
    assert canvas.shape[0] > grid.shape[0]  # legend band below
    row = grid.shape[0] - 1  # bottom image row
    assert tuple(canvas[row, 5]) == IMG_RGB  # image panel (resized to pred size)
    assert tuple(canvas[row, 34 + 5]) == _blend(PALETTE[2])  # GT panel, class 2
    assert tuple(canvas[row, 68 + 2]) == _blend(PALETTE[0])  # prediction, class 0
    assert tuple(canvas[row, 68 + 25]) == _blend(PALETTE[1])  # prediction, class 1
    assert tuple(canvas[grid.shape[0] - 20, 34]) == IMG_RGB  # GT void pixel: image untouched
    legend_colours = {tuple(c) for c in canvas[grid.shape[0]:].reshape(-1, 3)}
    assert all(tuple(c) in legend_colours for c in PALETTE)

    label_path = osp.join(label_dir, 'room_0001.png')
    label = read_label_png(label_path)  # paletted: the pixel values are the class ids
    assert label.dtype == np.uint8 and label.shape == (20, 30)
    np.testing.assert_array_equal(label, _sample(img_path)['pred'].numpy())
    shown = cv2.cvtColor(cv2.imread(label_path), cv2.COLOR_BGR2RGB)  # a viewer: the palette
    assert tuple(shown[0, 2]) == tuple(PALETTE[0]) and tuple(shown[0, 25]) == tuple(PALETTE[1])


def test_custom_out_dir_and_alpha(tmp_path):
    runner = _runner(tmp_path)
    img_path = _image(tmp_path, 'a.png')
    out_dir = str(tmp_path / 'vis')
    hook = SegVisualizationHook(draw=True, out_dir=out_dir, alpha=1.0)
    hook.after_test_iter(runner, 0, outputs=[_sample(img_path)])
    canvas = _read_rgb(osp.join(out_dir, 'a.png'))
    grid = side_by_side([np.zeros((20, 30, 3), np.uint8)] * 3, ['image', 'gt', 'p'])
    assert canvas.shape[1] == 3 * 30 + 2 * 4
    assert tuple(canvas[grid.shape[0] - 1, 68 + 25]) == PALETTE[1]  # prediction, alpha=1


def test_interval_max_images_and_no_draw(tmp_path):
    runner = _runner(tmp_path)
    paths = [_image(tmp_path, f'img{k}.png') for k in range(6)]
    out_dir = tmp_path / 'vis'
    hook = SegVisualizationHook(draw=True, out_dir=str(out_dir), interval=2, max_images=2)
    hook.before_test_epoch(runner)
    hook.after_test_iter(runner, 0, outputs=[_sample(p) for p in paths[:3]])
    hook.after_test_iter(runner, 1, outputs=[_sample(p) for p in paths[3:]])
    assert sorted(p.name for p in out_dir.iterdir()) == ['img0.png', 'img2.png']

    # draw=False: nothing drawn, even during validation.
    quiet = SegVisualizationHook(out_dir=str(tmp_path / 'quiet'))
    quiet.after_test_iter(runner, 0, outputs=[_sample(paths[0])])
    quiet.after_val_iter(runner, 0, outputs=[_sample(paths[0])])
    assert not (tmp_path / 'quiet').exists()


def test_val_only_with_on_val(tmp_path):
    runner = _runner(tmp_path)
    img_path = _image(tmp_path, 'v.png')
    off = SegVisualizationHook(draw=True, out_dir=str(tmp_path / 'off'))
    off.after_val_iter(runner, 0, outputs=[_sample(img_path)])
    assert not (tmp_path / 'off').exists()
    on = SegVisualizationHook(draw=True, on_val=True, out_dir=str(tmp_path / 'on'))
    on.after_val_iter(runner, 0, outputs=[_sample(img_path)])
    assert (tmp_path / 'on' / 'val_iter_7' / 'v.png').is_file()


def test_unreadable_paths_names_and_fallbacks(tmp_path):
    runner = _runner(tmp_path, metainfo={})  # no metainfo: VOC palette, class_<k> names
    mean, std = (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)
    inputs = torch.ones(2, 3, 20, 30)  # de-normalises to (1*0.25 + 0.5) * 255 = 191.25 -> 191
    outputs = [_sample('skimage:astronaut.png@(0,0,64,64)'), _sample('crops/x/astronaut.png')]
    out_dir = tmp_path / 'vis'
    labels = tmp_path / 'labels'
    hook = SegVisualizationHook(draw=True, out_dir=str(out_dir), label_out_dir=str(labels),
                                mean=mean, std=std)
    hook.after_test_iter(runner, 0, data_batch=dict(inputs=inputs), outputs=outputs)
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ['astronaut.png', 'skimage_astronaut.png_0_0_64_64.png']
    assert sorted(p.name for p in labels.iterdir()) == names
    canvas = _read_rgb(str(out_dir / 'astronaut.png'))
    grid_h = side_by_side([np.zeros((20, 30, 3), np.uint8)] * 3, ['a', 'b', 'c']).shape[0]
    assert tuple(canvas[grid_h - 1, 5]) == (191, 191, 191)  # the network input, not grey
    # Default palette without metainfo: class 0 -> VOC cmap[1] = (128, 0, 0).
    assert tuple(canvas[grid_h - 1, 68 + 2]) == (160, 96, 96)  # rint(0.5*191 + 0.5*(128,0,0))

    # Without mean/std the panel falls back to a grey canvas.
    grey = SegVisualizationHook(draw=True, out_dir=str(tmp_path / 'grey'))
    grey.after_test_iter(runner, 0, outputs=[_sample('missing.png')])
    assert tuple(_read_rgb(str(tmp_path / 'grey' / 'missing.png'))[grid_h - 1, 5]) == (128,) * 3


def test_sanitize_and_errors(tmp_path):
    assert sanitize_name('/data/nyu/image/test/00001.png', 'x') == '00001'
    assert sanitize_name(None, 'sample_00003') == 'sample_00003'
    assert '/' not in sanitize_name('val/img1', 'x')
    with pytest.raises(ValueError):
        SegVisualizationHook(interval=0)
    hook = SegVisualizationHook(label_out_dir=str(tmp_path / 'l'))
    bad = dict(pred=torch.full((2, 2), 300, dtype=torch.int64), gt=None, img_path='a.png')
    with pytest.raises(ValueError, match='uint8'):
        hook.after_test_iter(_runner(tmp_path), 0, outputs=[bad])
