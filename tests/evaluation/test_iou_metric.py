"""Tests for densekd.evaluation.iou_metric (golden values from a hand computation)."""
import math

import numpy as np
import pytest
import torch

from densekd.evaluation.iou_metric import (IoUMetric, confusion_matrix, confusion_to_metrics,
                                           format_iou_table)
from densekd.registry import METRICS

# Two 2x3 images, 5 classes, 255 = ignore.
# Image A                       Image B
#   gt   = [[0, 0, 1],            gt   = [[0,   3,   3],
#           [1, 255, 3]]                  [255, 255, 0]]
#   pred = [[0, 1, 1],            pred = [[0, 3, 4],
#           [1, 0, 3]]                    [2, 2, 0]]
# Valid (gt, pred) pairs: A: (0,0) (0,1) (1,1) (1,1) (3,3); B: (0,0) (3,3) (3,4) (0,0).
# Class 2 is predicted only on ignored pixels -> absent from GT and prediction -> NaN.
# Class 4 is predicted once but never in GT -> IoU 0, Acc NaN.
# conf[gt, pred]:            label area   TP   pred area
#   gt0: [3, 1, 0, 0, 0]        4          3      3
#   gt1: [0, 2, 0, 0, 0]        2          2      3
#   gt2: [0, 0, 0, 0, 0]        0          0      0
#   gt3: [0, 0, 0, 2, 1]        3          2      2
#   gt4: [0, 0, 0, 0, 0]        0          0      1
# IoU = TP / (label + pred - TP): 3/4=75.00, 2/3=66.67, NaN, 2/3=66.67, 0/1=0.00
# mIoU = (0.75 + 2/3 + 2/3 + 0) / 4 = 0.520833 -> 52.08
# aAcc = 7 / 9 = 0.777... -> 77.78
# Acc = TP / label: 3/4, 2/2, NaN, 2/3, NaN -> mAcc = (0.75 + 1 + 2/3) / 3 = 0.805556 -> 80.56
GT_A = torch.tensor([[0, 0, 1], [1, 255, 3]])
PRED_A = torch.tensor([[0, 1, 1], [1, 0, 3]])
GT_B = torch.tensor([[0, 3, 3], [255, 255, 0]])
PRED_B = torch.tensor([[0, 3, 4], [2, 2, 0]])
NAMES = ['a', 'b', 'c', 'd', 'e']


def _run(metric, batches):
    for batch in batches:
        metric.process({}, [dict(pred=p, gt=g) for p, g in batch])
    return metric.evaluate(size=sum(len(b) for b in batches))


def test_hand_computed_case():
    metric = IoUMetric(num_classes=5, class_names=NAMES)
    res = _run(metric, [[(PRED_A, GT_A)], [(PRED_B, GT_B)]])
    assert res['mIoU'] == 52.08
    assert res['aAcc'] == 77.78
    assert res['mAcc'] == 80.56
    assert res['IoU.a'] == 75.0
    assert res['IoU.b'] == 66.67
    assert math.isnan(res['IoU.c'])
    assert res['IoU.d'] == 66.67
    assert res['IoU.e'] == 0.0
    assert set(res) == {'mIoU', 'aAcc', 'mAcc'} | {f'IoU.{n}' for n in NAMES}
    assert metric.results == []  # mmengine resets after evaluate


def test_confusion_matrix_and_pure_metrics():
    conf = confusion_matrix(PRED_A, GT_A, 5) + confusion_matrix(PRED_B, GT_B, 5)
    expected = np.array([[3, 1, 0, 0, 0], [0, 2, 0, 0, 0], [0] * 5, [0, 0, 0, 2, 1], [0] * 5])
    np.testing.assert_array_equal(conf.numpy(), expected)
    m = confusion_to_metrics(expected, NAMES)  # numpy input works too
    assert m['Acc.a'] == 75.0 and m['Acc.b'] == 100.0 and m['Acc.d'] == 66.67
    assert math.isnan(m['Acc.c']) and math.isnan(m['Acc.e'])
    table = format_iou_table(m, NAMES)
    assert 'Class' in table and '| c ' in table and 'nan' in table and 'mIoU: 52.08' in table


def test_empty_confusion_gives_nan():
    m = confusion_to_metrics(np.zeros((3, 3)), None)
    assert math.isnan(m['mIoU']) and math.isnan(m['aAcc']) and 'IoU.class_0' in m


def _mmseg_style(preds, gts, num_classes, ignore_index=255):
    """Independent reference: mmseg's per-image histc areas summed over the dataset."""
    tot_i = torch.zeros(num_classes, dtype=torch.float64)
    tot_u = torch.zeros_like(tot_i)
    tot_p = torch.zeros_like(tot_i)
    tot_l = torch.zeros_like(tot_i)
    for pred, label in zip(preds, gts):
        mask = label != ignore_index
        pred, label = pred[mask], label[mask]
        intersect = pred[pred == label]
        area_i = torch.histc(intersect.float(), bins=num_classes, min=0, max=num_classes - 1)
        area_p = torch.histc(pred.float(), bins=num_classes, min=0, max=num_classes - 1)
        area_l = torch.histc(label.float(), bins=num_classes, min=0, max=num_classes - 1)
        tot_i += area_i
        tot_u += area_p + area_l - area_i
        tot_p += area_p
        tot_l += area_l
    iou = (tot_i / tot_u).numpy()
    acc = (tot_i / tot_l).numpy()
    return dict(aAcc=round(float(tot_i.sum() / tot_l.sum()) * 100, 2),
                mIoU=round(float(np.nanmean(iou)) * 100, 2),
                mAcc=round(float(np.nanmean(acc)) * 100, 2),
                iou=np.round(iou * 100, 2))


def test_matches_mmseg_style_on_random_data():
    g = torch.Generator().manual_seed(0)
    num_classes = 7
    present = torch.tensor([0, 1, 2, 3, 4, 6])  # class 5 absent from GT and prediction
    preds, gts = [], []
    for h, w in [(17, 23), (8, 8), (31, 5), (12, 40)]:
        gt = present[torch.randint(0, len(present), (h, w), generator=g)]
        # Correlate prediction with GT so IoUs are not all tiny.
        noise = present[torch.randint(0, len(present), (h, w), generator=g)]
        pred = torch.where(torch.rand(h, w, generator=g) < 0.6, gt, noise)
        gt[torch.rand(h, w, generator=g) < 0.1] = 255
        preds.append(pred)
        gts.append(gt)
    metric = IoUMetric(num_classes=num_classes)
    res = _run(metric, [list(zip(preds[:2], gts[:2])), list(zip(preds[2:], gts[2:]))])
    ref = _mmseg_style(preds, gts, num_classes)
    for k in ('aAcc', 'mIoU', 'mAcc'):
        assert res[k] == pytest.approx(ref[k], abs=1e-9), k
    ours = np.array([res[f'IoU.class_{k}'] for k in range(num_classes)])
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref['iou']))
    np.testing.assert_allclose(ours[~np.isnan(ours)], ref['iou'][~np.isnan(ref['iou'])])
    assert math.isnan(res['IoU.class_5'])


def test_num_classes_and_names_from_dataset_meta():
    metric = METRICS.build(dict(type='IoUMetric', prefix='seg'))
    with pytest.raises(ValueError, match='num_classes'):
        metric.process({}, [dict(pred=PRED_A, gt=GT_A)])
    metric.dataset_meta = dict(classes=tuple(NAMES), palette=[[0, 0, 0]] * 5)
    assert metric.num_classes == 5
    res = _run(metric, [[(PRED_A, GT_A), (PRED_B, GT_B)]])
    assert res['seg/mIoU'] == 52.08 and res['seg/IoU.e'] == 0.0


def test_errors():
    metric = IoUMetric(num_classes=5)
    with pytest.raises(ValueError, match='shape'):
        metric.process({}, [dict(pred=torch.zeros(2, 3, dtype=torch.long),
                                 gt=torch.zeros(3, 2, dtype=torch.long))])
    with pytest.raises(ValueError, match=r'\[0, 5\)'):
        metric.process({}, [dict(pred=torch.zeros(2, 2, dtype=torch.long),
                                 gt=torch.full((2, 2), 7))])
    with pytest.raises(ValueError, match='class names'):
        IoUMetric(num_classes=3, class_names=['x']).class_names
    # A sample without GT (unlabelled data) is skipped, not an error.
    metric.process({}, [dict(pred=PRED_A, gt=None)])
    assert metric.results == []


def test_constant_memory_over_many_batches():
    metric = IoUMetric(num_classes=4)
    g = torch.Generator().manual_seed(1)
    n = 0
    for _ in range(200):
        gt = torch.randint(0, 4, (2, 6, 6), generator=g)
        pred = torch.randint(0, 4, (2, 6, 6), generator=g)
        metric.process({}, [dict(pred=p, gt=t) for p, t in zip(pred, gt)])
        n += 2 * 36
        assert len(metric.results) == 1
        assert metric.results[0].shape == (4, 4)
    assert int(metric.results[0].sum()) == n
    res = metric.evaluate(size=400)
    assert 0.0 <= res['mIoU'] <= 100.0


def test_evaluate_refuses_repeated_samples_and_keeps_the_prefix():
    """More samples than the dataset holds means a padding sampler: no metrics from them."""
    metric = IoUMetric(num_classes=5, prefix='seg')
    metric.process({}, [dict(pred=PRED_A, gt=GT_A), dict(pred=PRED_B, gt=GT_B)])
    metric.process({}, [dict(pred=PRED_A, gt=GT_A)])  # a repeat of sample 0
    with pytest.raises(ValueError, match='round_up=False'):
        metric.evaluate(size=2)
    assert metric.results == []  # reset either way
    # Unlabelled samples count as seen too; the count restarts after each evaluate.
    metric.process({}, [dict(pred=PRED_A, gt=GT_A), dict(pred=PRED_B, gt=None)])
    assert metric.evaluate(size=2)['seg/mIoU'] == 72.22  # image A alone: (1/2 + 2/3 + 1) / 3
