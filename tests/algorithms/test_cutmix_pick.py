"""CutMixPick: box geometry, derangements, picking by hand-computed scores, KD/MosaicKD wiring,
and one end-to-end tools/train.py run with a checkpoint and an exact resume."""
import copy
import glob
import math
import os.path as osp
import textwrap

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from torch import nn

from densekd.algorithms import KD, CutMixPick, MosaicKD
from densekd.algorithms.cutmix_pick import build_cutmix_pick, cutmix_box, derangement
from densekd.engine import SubmoduleOptimConstructor
from densekd.losses import PixelKDLoss
from densekd.models import build_segmentor
from tests.helpers import (TINY_SEGMENTOR, TINY_SEGMENTOR_ARGS, load_tool, photos_loader_body,
                           tiny_data_body, write_config, write_tiny_segmentor)

SIZE = (32, 32)  # smp's DeepLabV3+ needs H and W divisible by 16


@pytest.fixture(scope='module')
def teacher_weights(tmp_path_factory):
    return write_tiny_segmentor(tmp_path_factory.mktemp('cutmix_teacher'), seed=2)


class ConstantEntropyTeacher(nn.Module):
    """Two-class logits ``(x_0, 0)`` per pixel: a pixel of value v has the entropy h(v)."""

    def forward(self, x):
        return torch.cat([x[:, :1], torch.zeros_like(x[:, :1])], dim=1)


def binary_entropy(v: float) -> float:
    """Entropy (nats) of softmax((v, 0)) = (sigmoid(v), 1 - sigmoid(v))."""
    p = 1 / (1 + math.exp(-v))
    return -(p * math.log(p) + (1 - p) * math.log(1 - p))


def constant_images(values, size=(8, 12)):
    return torch.tensor(values).view(-1, 1, 1, 1).expand(-1, 3, *size).contiguous()


# ------------------------------------------------------------------------------------------
# Geometry
# ------------------------------------------------------------------------------------------
def test_cutmix_box_is_the_clipped_centred_box_and_lambda_its_complement():
    # λ = 0.75: side ratio 0.5, a 4x6 box in an 8x12 image; centred, it is not clipped.
    assert cutmix_box(8, 12, 0.75, cy=4, cx=6) == ((2, 6, 3, 9), 0.75)
    # A 5x5 box centred at (0, 9) of a 10x10 image keeps rows 0:2 and columns 7:10 (6 px).
    assert cutmix_box(10, 10, 0.75, cy=0, cx=9) == ((0, 2, 7, 10), pytest.approx(0.94))
    assert cutmix_box(8, 12, 0.0, cy=4, cx=6) == ((0, 8, 0, 12), 0.0)  # the whole image
    assert cutmix_box(8, 12, 1.0, cy=3, cx=3)[1] == 1.0  # an empty box


def test_cutmix_pastes_the_source_region_and_recomputes_lambda():
    pick = CutMixPick(score='teacher_entropy')
    x = torch.randn(5, 3, 16, 20)  # every pixel differs between images
    clipped = 0
    for seed in range(20):
        torch.manual_seed(seed)
        run = pick.cutmix(x)
        y1, y2, x1, x2 = run.box
        inside = torch.zeros(16, 20, dtype=torch.bool)
        inside[y1:y2, x1:x2] = True
        for i in range(5):
            src = int(run.perm[i])
            assert torch.equal(run.images[i][:, inside], x[src][:, inside])
            assert torch.equal(run.images[i][:, ~inside], x[i][:, ~inside])
        own = (run.images == x).all(dim=1).float().mean().item()  # fraction of own pixels
        assert run.lam == pytest.approx(own) == pytest.approx(1 - inside.sum().item() / 320)
        clipped += int(y1 == 0 or x1 == 0 or y2 == 16 or x2 == 20)
    assert clipped > 0  # the seeds cover boxes cut by the image border


def test_permutations_have_no_fixed_points_and_cover_every_derangement():
    torch.manual_seed(0)
    seen = set()
    for n in (2, 3, 4, 7):
        for _ in range(200):
            perm = derangement(n)
            assert sorted(perm.tolist()) == list(range(n))
            assert not (perm == torch.arange(n)).any()
            if n == 3:
                seen.add(tuple(perm.tolist()))
    assert seen == {(1, 2, 0), (2, 0, 1)}  # both derangements of 3 elements
    with pytest.raises(ValueError, match='n >= 2'):
        derangement(1)


def test_the_draws_follow_torchs_global_seed():
    pick = CutMixPick(score='teacher_entropy')
    x = torch.randn(4, 3, 16, 16)
    torch.manual_seed(3)
    a = pick.pool(x)
    torch.manual_seed(3)
    b = pick.pool(x)
    c = pick.pool(x)
    assert a.shape == (8, 3, 16, 16) and torch.equal(a, b) and not torch.equal(a, c)


# ------------------------------------------------------------------------------------------
# Scores and picking
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize('n_pick', [None, 3])
def test_pick_keeps_the_top_n_by_mean_teacher_entropy(n_pick):
    values = [0.0, 0.7, 2.0, 5.0]  # per-image constants: pixel entropies h(v) all differ
    x = constant_images(values)
    teacher = ConstantEntropyTeacher()
    pick = CutMixPick(score='teacher_entropy', n_pick=n_pick)
    torch.manual_seed(11)
    runs = [pick.cutmix(x) for _ in range(2)]
    # Image i of a run is lam parts h(v_i) and (1 - lam) parts h(v_perm[i]).
    expected = torch.tensor([run.lam * binary_entropy(values[i])
                             + (1 - run.lam) * binary_entropy(values[int(run.perm[i])])
                             for run in runs for i in range(4)])
    pool = torch.cat([run.images for run in runs])
    torch.testing.assert_close(pick.score(pool, teacher), expected.float())

    torch.manual_seed(11)
    picked = pick(x, teacher, student=None)
    n = n_pick or 4
    best = expected.argsort(descending=True)[:n]
    assert picked.shape == (n, 3, 8, 12)
    assert torch.equal(picked, pool[best])  # the n highest, highest first
    assert not torch.equal(picked, pool[:n])  # it did reorder the pool


def test_kl_and_student_entropy_scores_score_the_student_in_eval_mode(teacher_weights):
    torch.manual_seed(1)
    student = build_segmentor(**TINY_SEGMENTOR_ARGS).train()
    teacher = build_segmentor(**TINY_SEGMENTOR_ARGS).eval()
    pool = torch.randn(4, 3, *SIZE)
    state = copy.deepcopy(student.state_dict())
    with torch.no_grad():
        s_eval = copy.deepcopy(student).eval()(pool)
        t = teacher(pool)
    log_s, log_t = F.log_softmax(s_eval / 2.0, dim=1), F.log_softmax(t / 2.0, dim=1)
    kl = (log_t.exp() * (log_t - log_s)).sum(dim=1).flatten(1).mean(dim=1)
    ent = -(log_s.exp() * log_s).sum(dim=1).flatten(1).mean(dim=1)  # at tau 2: not the score
    s_ent = -(F.softmax(s_eval, 1) * F.log_softmax(s_eval, 1)).sum(dim=1).flatten(1).mean(dim=1)

    torch.testing.assert_close(CutMixPick(score='kl', tau=2.0).score(pool, teacher, student), kl)
    got = CutMixPick(score='student_entropy', tau=2.0).score(pool, teacher, student)
    torch.testing.assert_close(got, s_ent)  # entropies at tau 1, as the reference
    assert not torch.allclose(got, ent)
    # Eval mode: no dropout, no BatchNorm update; the student is given back in train mode.
    assert student.training
    for k, v in student.state_dict().items():
        assert torch.equal(v, state[k]), f'student {k} changed while scoring'


def test_bad_arguments_name_the_key():
    with pytest.raises(ValueError, match=r"model.cutmix_pick.score='entropy'.*teacher_entropy"):
        CutMixPick(score='entropy')
    for kwargs, key in ((dict(runs=0), 'runs'), (dict(n_pick=0), 'n_pick'),
                        (dict(tau=0.0), 'tau'), (dict(runs=1.5), 'runs')):
        with pytest.raises(ValueError, match=f'model.cutmix_pick.{key}'):
            CutMixPick(**kwargs)
    pick = CutMixPick(score='teacher_entropy')
    with pytest.raises(ValueError, match='at least 2 images, got 1'):
        pick(torch.randn(1, 3, 8, 8), ConstantEntropyTeacher())
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        pick(torch.randn(3, 8, 8), ConstantEntropyTeacher())
    with pytest.raises(ValueError, match='needs the student'):
        CutMixPick(score='kl')(torch.randn(2, 3, 8, 8), ConstantEntropyTeacher())
    with pytest.raises(ValueError, match='model.cutmix_pick'):
        build_cutmix_pick('CutMixPick')
    assert build_cutmix_pick(None) is None
    assert build_cutmix_pick(dict(score='kl', runs=3)).runs == 3  # type defaults


# ------------------------------------------------------------------------------------------
# KD
# ------------------------------------------------------------------------------------------
def build_kd(teacher_weights, **kwargs):
    model = KD(teacher=dict(TINY_SEGMENTOR, checkpoint=teacher_weights),
               student=dict(TINY_SEGMENTOR), **kwargs)
    optim = SubmoduleOptimConstructor(dict(student=dict(optimizer=dict(type='SGD', lr=0.1))))(
        model)
    return model.train(), optim


def spy_inputs(module: nn.Module) -> list:
    """Record the input of every forward of ``module``."""
    seen = []
    forward = module.forward

    def spy(x):
        seen.append(x.detach().clone())
        return forward(x)
    module.forward = spy
    return seen


def test_kd_with_cutmix_pick_distils_on_2b_images_with_teacher_targets(teacher_weights):
    model, optim = build_kd(teacher_weights,
                            cutmix_pick=dict(type='CutMixPick', score='teacher_entropy'))
    reference = copy.deepcopy(model)  # the same players before the step
    x = torch.randn(3, 3, *SIZE)
    s_seen, t_seen = spy_inputs(model.student), spy_inputs(model.teacher)
    torch.manual_seed(5)
    logged = model.train_step(dict(inputs=x), optim)['student.loss_kd']

    # By hand: the same draws give the same picked images; pixel KD (tau 1) on x and them,
    # the teacher's output on each mixed image as target, one student forward on all 2B.
    torch.manual_seed(5)
    picked = CutMixPick(score='teacher_entropy')(x, reference.teacher)
    both = torch.cat([x, picked])
    with torch.no_grad():
        t = reference.teacher(both)
    s = reference.student(both)
    log_s, log_t = F.log_softmax(s, dim=1), F.log_softmax(t, dim=1)
    expected = (log_t.exp() * (log_t - log_s)).sum(dim=1).mean()

    assert [v.shape[0] for v in s_seen] == [6]  # no student forward for T. ent.
    assert torch.equal(s_seen[0], both)
    assert [v.shape[0] for v in t_seen] == [6, 6]  # scoring the pool, then the targets
    assert torch.equal(t_seen[1], both)
    torch.testing.assert_close(logged, expected)
    assert expected > 0  # the teacher differs from the student
    with torch.no_grad():  # and the picked half matters: KD on x alone gives another loss
        plain = reference.distill_losses.losses['kd'](s[:3], t[:3])
    assert not torch.allclose(logged, plain)


def test_kd_with_the_kl_score_scores_a_pool_of_runs_times_b(teacher_weights):
    model, optim = build_kd(teacher_weights,
                            cutmix_pick=dict(type='CutMixPick', score='kl', runs=3))
    s_seen = spy_inputs(model.student)
    model.train_step(dict(inputs=torch.randn(2, 3, *SIZE)), optim)
    assert [v.shape[0] for v in s_seen] == [6, 4]  # scoring 3 x 2 CutMixes, training 2 + 2


def test_concatenation_is_the_mean_of_the_two_losses_for_equal_sizes():
    """cat([x, x_aug]) under a pixel-mean loss = 1/2 (L(x) + L(x_aug)), the reference's sum / 2."""
    torch.manual_seed(0)
    s, t = torch.randn(4, 13, 8, 8), torch.randn(4, 13, 8, 8)
    kd = PixelKDLoss(tau=2.0)
    torch.testing.assert_close(kd(s, t), 0.5 * (kd(s[:2], t[:2]) + kd(s[2:], t[2:])))


def test_kd_without_cutmix_pick_is_unchanged(teacher_weights):
    model, optim = build_kd(teacher_weights)
    assert model.cutmix_pick is None
    s_seen = spy_inputs(model.student)
    model.train_step(dict(inputs=torch.randn(2, 3, *SIZE)), optim)
    assert [v.shape[0] for v in s_seen] == [2]


def test_kd_refuses_a_bad_cutmix_pick(teacher_weights):
    with pytest.raises(ValueError, match='model.cutmix_pick.score'):
        build_kd(teacher_weights, cutmix_pick=dict(type='CutMixPick', score='kld'))


# ------------------------------------------------------------------------------------------
# MosaicKD
# ------------------------------------------------------------------------------------------
TINY_G = dict(arch='DeepLabV3Plus', encoder_name='tu-test_resnet', classes=13,
              encoder_weights=None, decoder_channels=16, decoder_atrous_rates=(1, 2, 3))


def build_mosaickd(tmp_path, **kwargs):
    MessageHub.get_instance('test_cutmix_pick').update_info('iter', 0)
    torch.manual_seed(0)
    ckpt = str(tmp_path / 'teacher.pth')
    torch.save(build_segmentor(**TINY_G).state_dict(), ckpt)
    model = MosaicKD(teacher=dict(checkpoint=ckpt, **TINY_G), student=dict(TINY_G),
                     generator=dict(type='PatchGenerator', nz=8, global_nz=4, ngf=8,
                                    num_upsamples=2, img_size=SIZE),
                     discriminator=dict(type='PatchDiscriminator', ndf=8, patch_size=10),
                     batch_size=2, student_steps=1, **kwargs)
    optim = SubmoduleOptimConstructor({n: dict(optimizer=dict(type='Adam', lr=1e-3))
                                       for n in ('student', 'generator', 'discriminator')})(model)
    return model.train(), optim


def test_mosaickd_student_steps_add_the_picked_cutmixes_of_their_ood_chunk(tmp_path):
    model, optim = build_mosaickd(
        tmp_path, cutmix_pick=dict(type='CutMixPick', score='teacher_entropy'))
    calls = []
    pick = model.cutmix_pick

    def recorded(images, teacher, student):
        out = pick(images, teacher, student)
        calls.append((images.clone(), out.clone()))
        assert teacher is model.teacher and student is model.student
        return out
    model.cutmix_pick = recorded
    s_seen = spy_inputs(model.student)
    ood = torch.randn(4, 3, *SIZE)  # chunk 0 for D, chunk 1 for the student step
    log = model.train_step(dict(inputs=ood), optim)

    assert len(calls) == 1 and torch.equal(calls[0][0], ood[2:])
    # The generator step's student forward (2 mosaics), then the student step on
    # 2 mosaics + the 2 OOD images + their 2 picked CutMixes.
    assert [v.shape[0] for v in s_seen] == [2, 6]
    assert torch.equal(s_seen[1][2:4], ood[2:]) and torch.equal(s_seen[1][4:], calls[0][1])
    assert torch.isfinite(log['student.loss_kd'])


def test_mosaickd_cutmix_pick_needs_ood_in_student(tmp_path):
    with pytest.raises(ValueError, match='ood_in_student'):
        build_mosaickd(tmp_path, ood_in_student=False,
                       cutmix_pick=dict(type='CutMixPick', score='teacher_entropy'))


# ------------------------------------------------------------------------------------------
# End to end
# ------------------------------------------------------------------------------------------
CONFIG = 'kd/kd-cutmixpick-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py'


@pytest.mark.e2e
def test_train_with_cutmix_pick_saves_the_random_state_and_resumes_exactly(
        teacher_weights, synthrooms_root, tmp_path):
    body = tiny_data_body(synthrooms_root) + photos_loader_body(4, 32) + textwrap.dedent(f"""
        model = dict(teacher=dict(_delete_=True, checkpoint={teacher_weights!r},
                                  **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}),
                     cutmix_pick=dict(score='kl'))
        train_cfg = dict(max_iters=4, num_evals=1)
        randomness = dict(seed=0, deterministic=True)
        default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=2), logger=dict(interval=1))
    """)
    cfg = write_config(tmp_path, CONFIG, body)
    train = load_tool('train').main
    full, resumed = str(tmp_path / 'full'), str(tmp_path / 'resumed')
    train([cfg, '--work-dir', full])
    ckpt = torch.load(osp.join(full, 'iter_2.pth'), map_location='cpu', weights_only=False)
    assert 'random_state' in ckpt  # RandomStateHook saved the streams CutMixPick draws from
    train([cfg, '--work-dir', resumed, '--resume', osp.join(full, 'iter_2.pth')])

    def student(work_dir):
        (path,) = glob.glob(osp.join(work_dir, 'iter_4.pth'))
        state = torch.load(path, map_location='cpu', weights_only=False)['state_dict']
        return {k: v for k, v in state.items() if k.startswith('student.')}
    a, b = student(full), student(resumed)
    start = {k: v for k, v in ckpt['state_dict'].items() if k.startswith('student.')}
    assert any(not torch.equal(a[k], start[k]) for k in a)  # iterations 3-4 trained
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=1e-6, msg=k)
