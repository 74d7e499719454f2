"""ReplayPool: bounded, refresh policies, dtype, state dict (its use: tests/algorithms)."""
import pytest
import torch

from densekd.models import ReplayPool


def images(values):
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1)


def test_fifo_is_bounded_and_replaces_the_oldest():
    pool = ReplayPool(3)
    pool.push(images([1, 2]))
    assert len(pool) == 2
    pool.push(images([3, 4]))
    assert len(pool) == 3
    assert sorted(pool.images.flatten().tolist()) == [2, 3, 4]  # 1 was the oldest
    pool.push(images([5, 6, 7]))
    assert sorted(pool.images.flatten().tolist()) == [5, 6, 7]


def test_random_refresh_fills_free_slots_first_then_keeps_some_old():
    torch.manual_seed(0)
    pool = ReplayPool(4, refresh='random')
    pool.push(images([1, 2, 3]))
    pool.push(images([4, 5]))  # one free slot, then one random slot
    kept = pool.images.flatten().tolist()
    assert 4 in kept and 5 in kept and len(pool) == 4
    assert len({1, 2, 3} & set(kept)) == 2


def test_sample_draws_stored_images_in_the_callers_dtype():
    pool = ReplayPool(8)
    pool.push(images([0.5, 1.5]))
    out = pool.sample(6)
    assert out.dtype == torch.float32 and out.shape == (6, 1, 1, 1)
    assert set(out.flatten().tolist()) <= {0.5, 1.5}
    with pytest.raises(RuntimeError, match='empty'):
        ReplayPool(2).sample(1)


def test_state_dict_round_trip_restores_the_pool():
    pool = ReplayPool(4)
    pool.push(torch.randn(3, 3, 8, 8))
    fresh = ReplayPool(4)
    fresh.load_state_dict(pool.state_dict())
    assert len(fresh) == 3 and torch.equal(fresh.images, pool.images)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match='size'):
        ReplayPool(0)
    with pytest.raises(ValueError, match='refresh'):
        ReplayPool(4, refresh='lifo')
    pool = ReplayPool(2)
    pool.push(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match='shape'):
        pool.push(torch.zeros(1, 3, 5, 5))
