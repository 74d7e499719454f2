"""ReplayPool, and the generative base with and without it."""
import pytest
import torch

from densekd.algorithms import DFAD
from densekd.engine import SubmoduleOptimConstructor
from densekd.models import ReplayPool, build_segmentor

TINY = dict(arch='DeepLabV3Plus', encoder_name='tu-test_resnet', classes=13, encoder_weights=None,
            decoder_channels=16, decoder_atrous_rates=(1, 2, 3))
SIZE = (32, 32)


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


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save(build_segmentor(**TINY).state_dict(), path)
    return str(path)


def build_dfad(teacher_ckpt, **kwargs):
    torch.manual_seed(1)
    model = DFAD(teacher=dict(checkpoint=teacher_ckpt, **TINY), student=dict(TINY),
                 generator=dict(type='DCGANGenerator', nz=8, ngf=8, img_size=SIZE),
                 batch_size=2, student_steps=2, **kwargs)
    optim = SubmoduleOptimConstructor(
        {n: dict(optimizer=dict(type='Adam', lr=1e-3)) for n in ('student', 'generator')})(model)
    return model.train(), optim


def test_without_pool_the_student_step_is_the_references(teacher_ckpt):
    """Pool off: the student trains on exactly G(z) for fresh z, as DFAD's reference does."""
    model, optim = build_dfad(teacher_ckpt)
    assert model.replay_pool is None
    reference, _ = build_dfad(teacher_ckpt)  # same weights
    torch.manual_seed(7)
    logged = model.student_step(optim)['student.loss_kd']
    torch.manual_seed(7)
    with torch.no_grad():
        z = reference.generator.sample_latent(2)
        x = reference.generator(z)
        expected = reference.kd_loss(reference.student(x), reference.teacher(x))
    assert torch.allclose(logged, expected)


def test_with_pool_the_student_replays_and_the_pool_fills(teacher_ckpt):
    model, optim = build_dfad(teacher_ckpt, replay=dict(size=5, batch=3))
    seen = []
    forward = model.student.forward

    def spy(x):
        seen.append(x.shape[0])
        return forward(x)
    model.student.forward = spy
    for _ in range(4):
        model.student_step(optim)
    assert seen == [2, 2 + 3, 2 + 3, 2 + 3]  # fresh only, then fresh + 3 replayed
    assert len(model.replay_pool) == 5 and int(model.replay_pool.pushed) == 8
    assert 'replay_pool.images' in model.state_dict()


def test_replay_config_errors_name_the_key(teacher_ckpt):
    with pytest.raises(ValueError, match='model.replay'):
        build_dfad(teacher_ckpt, replay=dict(size=4, batch=0))
    with pytest.raises(ValueError, match='model.replay'):
        build_dfad(teacher_ckpt, replay=dict(size=4, batch=2, sise=3))
