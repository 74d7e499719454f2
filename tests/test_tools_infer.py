"""tools/export_weights.py --smp-dir and tools/infer.py: a newcomer's own images, offline."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from densekd.datasets.nyuv2 import NYUV2_CLASSES, NYUV2_PALETTE
from densekd.models.segmentors import build_segmentor, load_weights
from densekd.visualization.label_png import read_label_png
from tests.helpers import TINY_SEGMENTOR_ARGS, load_tool

pytestmark = pytest.mark.e2e


@pytest.fixture(scope='module')
def export_dir(tiny_teacher, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('export') / 'teacher_smp')
    load_tool('export_weights').main([osp.join(tiny_teacher['work_dir'], 'iter_120.pth'),
                                      '--smp-dir', out])
    return out


def _photos(folder, n=2):
    rng = np.random.default_rng(0)
    folder.mkdir(exist_ok=True)
    for i in range(n):  # not the training size: infer resizes to the model's and back
        cv2.imwrite(str(folder / f'photo{i}.jpg'), rng.integers(0, 255, (50, 70, 3), np.uint8))
    return sorted(str(p) for p in folder.iterdir())


def test_smp_export_loads_without_densekd_and_matches(export_dir, tiny_teacher):
    with open(osp.join(export_dir, 'densekd.json')) as f:
        meta = json.load(f)
    assert meta['classes'] == list(NYUV2_CLASSES)
    assert meta['palette'] == [list(c) for c in NYUV2_PALETTE]
    assert meta['mean'] == pytest.approx([0.485, 0.456, 0.406]) and meta['input_size'] == [64, 64]
    x = torch.randn(1, 3, 64, 64)
    reference = build_segmentor(**TINY_SEGMENTOR_ARGS)
    load_weights(reference, tiny_teacher['weights'])
    expected = reference.eval()(x)
    torch.save(x, osp.join(export_dir, '..', 'x.pt'))
    # The README's lines, in a fresh interpreter where importing densekd is impossible.
    script = (f"import sys; sys.modules['densekd'] = None\n"
              f"import segmentation_models_pytorch as smp, torch\n"
              f"model = smp.from_pretrained({export_dir!r}).eval()\n"
              f"x = torch.load({osp.join(export_dir, '..', 'x.pt')!r})\n"
              f"torch.save(model(x), {osp.join(export_dir, '..', 'y.pt')!r})\n")
    subprocess.run([sys.executable, '-c', script], check=True, cwd='/')
    torch.testing.assert_close(torch.load(osp.join(export_dir, '..', 'y.pt')), expected)


def test_infer_on_an_image_and_on_a_folder(export_dir, tiny_teacher, tmp_path):
    photos = _photos(tmp_path / 'photos')
    infer = load_tool('infer')
    infer.main([export_dir, photos[0], '--out', str(tmp_path / 'one')])
    assert sorted(p.name for p in (tmp_path / 'one').iterdir()) == ['photo0.png',
                                                                    'photo0_overlay.jpg']
    infer.main([export_dir, str(tmp_path / 'photos'), '--out', str(tmp_path / 'all')])
    masks = [read_label_png(str(tmp_path / 'all' / f'photo{i}.png')) for i in range(2)]
    overlay = cv2.imread(str(tmp_path / 'all' / 'photo1_overlay.jpg'))
    assert masks[0].shape == (50, 70) and masks[0].max() < 13
    assert overlay.shape[0] >= 50 and overlay.shape[1] > 70  # the image and a legend
    np.testing.assert_array_equal(masks[0], read_label_png(str(tmp_path / 'one' / 'photo0.png')))
    # The same mask from the config and the training checkpoint, and by hand from the model.
    infer.main([tiny_teacher['config'], osp.join(tiny_teacher['work_dir'], 'iter_120.pth'),
                photos[0], '--out', str(tmp_path / 'cfg')])
    np.testing.assert_array_equal(read_label_png(str(tmp_path / 'cfg' / 'photo0.png')), masks[0])
    image = cv2.cvtColor(cv2.imread(photos[0]), cv2.COLOR_BGR2RGB)
    net, meta = infer.load_model(infer.parse_args([export_dir, photos[0], '--out', 'x']))
    x = torch.from_numpy(((image / 255 - meta['mean']) / meta['std']).transpose(2, 0, 1))
    logits = net(torch.nn.functional.interpolate(x[None].float(), size=(64, 64), mode='bilinear'))
    logits = torch.nn.functional.interpolate(logits, size=(50, 70), mode='bilinear')
    np.testing.assert_array_equal(logits.argmax(1)[0].numpy(), masks[0])


def test_infer_bad_inputs_are_named(export_dir, tmp_path):
    infer = load_tool('infer')
    with pytest.raises(SystemExit, match='nothere.jpg: no image there'):
        infer.main([export_dir, str(tmp_path / 'nothere.jpg'), '--out', str(tmp_path / 'o')])
    with pytest.raises(SystemExit):
        infer.main([str(tmp_path), 'a.jpg', '--out', str(tmp_path / 'o')])  # not an export
    assert not (tmp_path / 'o').exists()
