"""End to end: `tools/train.py CONFIG --check-data` names every bad file, sets the exit code."""
import os
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from tests.datasets.test_checks import _photo, _write_jpeg
from tests.datasets.test_nyuv2 import make_nyu
from tests.helpers import ROOT, TINY_SEGMENTOR, load_tool, write_config

pytestmark = pytest.mark.e2e


def _config(tmp_path, ood, nyu):
    body = textwrap.dedent(f"""
        model = dict(segmentor={TINY_SEGMENTOR!r})
        _norm = dict(type='Normalize', mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
        train_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(
            _delete_=True, type='ImageFolderDataset', data_root={str(ood)!r},
            pipeline=[dict(type='Resize', height=32, width=32), _norm]))
        val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(
            _delete_=True, type='NYUv2Dataset', data_root={str(nyu)!r}, split='test',
            pipeline=[_norm]))
        test_dataloader = val_dataloader
    """)
    return write_config(tmp_path, 'teacher/deeplabv3plus_r18_synthrooms-96x128.py', body)


def test_check_data_names_bad_files_and_exits_non_zero(tmp_path, capsys):
    ood, nyu = tmp_path / 'ood', tmp_path / 'nyu'
    ood.mkdir()
    for k in range(3):
        _write_jpeg(ood / f'ok_{k}.jpg', _photo(k))
    cut = _write_jpeg(ood / 'cut.jpg', _photo(9), keep=0.6)
    junk = ood / 'notes.png'
    junk.write_text('not an image')
    make_nyu(nyu, split='test', n=3)
    label = nyu / 'seg13' / 'test' / '00003.png'
    assert cv2.imwrite(str(label), np.full((24, 32), 77, np.uint8))
    cfg, work = _config(tmp_path, ood, nyu), tmp_path / 'work'

    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'train.py'), cfg, '--check-data',
         '--work-dir', str(work)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert 'data check FAILED: 3 problem(s)' in out
    assert f'train_dataloader.dataset: {cut}: ' in out and 'truncated JPEG' in out
    assert f'train_dataloader.dataset: {junk}: cannot be opened' in out
    assert f'val_dataloader.dataset: {nyu}/image/test/00003.png: ' in out
    assert str(label) in out and 'values 77' in out and '0..12' in out
    # Both datasets decoded in full (3 readable OOD files, 3 pairs), val listed once.
    assert 'train_dataloader.dataset: ImageFolderDataset, 4 files decoded' in out
    assert 'val_dataloader.dataset: NYUv2Dataset, 3 files decoded' in out
    assert 'test_dataloader' not in out
    assert 'decoding 4 files' in proc.stderr  # the progress goes to stderr
    assert not work.exists()  # checked, not trained

    # Fixed data: exit status 0.
    os.remove(cut)
    junk.unlink()
    assert cv2.imwrite(str(label), np.full((24, 32), 12, np.uint8))
    with pytest.raises(SystemExit) as done:
        load_tool('train').main([cfg, '--check-data', '--work-dir', str(work)])
    assert done.value.code == 0
    assert 'data check passed' in capsys.readouterr().out
