"""densekd.utils.finite: finding NaN/inf in named tensors, naming the last good checkpoint."""
import math

import torch

from densekd.utils.finite import (describe, iter_tensors, last_saved_checkpoint, non_finite,
                                  stopped_message)


def test_non_finite_names_each_bad_tensor_with_its_count():
    bad = torch.zeros(10)
    bad[:3] = float('nan')
    bad[5] = -math.inf
    named = [('ok', torch.ones(4)), ('bad', bad), ('inf', torch.full((2,), math.inf)),
             ('steps', torch.tensor([3]))]  # integer counters are skipped
    assert non_finite(named) == [('bad', 4), ('inf', 2)]
    assert non_finite([('ok', torch.ones(3)), ('empty', torch.empty(0))]) == []


def test_huge_but_finite_values_are_finite():
    # Their float32 sum overflows (the fast path flags them); the exact count clears them.
    big = torch.full((8,), 3e38)
    half = torch.full((4096,), 60000.0, dtype=torch.float16)  # sums past float16's max
    assert non_finite([('big', big), ('half', half)]) == []


def test_iter_tensors_walks_nested_state():
    state = {'student': {'state': {0: {'exp_avg': torch.zeros(2)}}, 'param_groups': [{'lr': 1}]},
             'list': [torch.ones(1)]}
    assert [n for n, _ in iter_tensors(state, 'optimizer')] == [
        'optimizer.student.state.0.exp_avg', 'optimizer.list.0']


def test_describe_shortens_long_lists():
    text = describe([('a', 1), ('b', 2), ('c', 3), ('d', 4), ('e', 5)])
    assert text == ('a (1 non-finite value), b (2 non-finite values), '
                    'c (3 non-finite values) and 2 more tensors')


def test_stopped_message_names_the_last_checkpoint_or_none(tmp_path):
    error = FloatingPointError('non-finite loss loss_ce = nan at iteration 3')
    assert last_saved_checkpoint(str(tmp_path)) is None
    assert stopped_message(error, str(tmp_path)) == (
        f'training stopped: non-finite loss loss_ce = nan at iteration 3; '
        f'no checkpoint was saved in {tmp_path}')
    ckpt = tmp_path / 'iter_2.pth'
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    assert last_saved_checkpoint(str(tmp_path)) is None  # named, but not on disk
    ckpt.write_bytes(b'x')
    assert stopped_message(error, str(tmp_path)).endswith(
        f'the last good checkpoint (saved with finite weights) is {ckpt}')
