"""CutMixPick made dense: CutMix a batch several times, keep the images the models find hardest.

Wang, Lohit, Jones and Fu, "What Makes a 'Good' Data Augmentation in Knowledge Distillation -
A Statistical Perspective", NeurIPS 2022 (arXiv 2012.02909; code
https://github.com/MingSun-Tse/Good-DA-in-KD, ``cutmix_pick``). Per call:

1. ``runs`` CutMix passes over the batch ``x`` of ``B`` images give a pool of ``runs·B`` mixed
   images. Each pass draws ``λ ~ Beta(1, 1)`` (i.e. U(0, 1)), a box of side ratio ``√(1 − λ)``
   at a uniform centre, clipped to the image, and a permutation without fixed points; image
   ``i`` gets the box of image ``perm[i]`` pasted in. ``λ`` is recomputed from the clipped box
   (the area fraction of the base image that is kept), as in CutMix (Yun et al., ICCV 2019).
2. Every pooled image gets one score, the mean over its pixels of the teacher's entropy
   (``'teacher_entropy'``, the paper's "T. ent."), the student's entropy
   (``'student_entropy'``, "S. ent.") or ``KL(softmax(T/τ) || softmax(S/τ))`` (``'kl'``, the
   reference code's default ``kld``).
3. The ``n_pick`` (default ``B``) highest-scoring images are returned. The caller distils on
   them with the teacher's own dense output on each mixed image as the target, so no label
   mixing is needed (the reference's ``--t_output_as_target_for_input_mix``).

All random draws use torch's global CPU generator, so mmengine's seeding and
:class:`~densekd.engine.RandomStateHook` (exact resume) cover them.
"""
from __future__ import annotations

import contextlib
import math
from typing import Iterator, NamedTuple, Optional, Tuple

import torch
from torch import nn

from densekd.losses.pixel_kd import pixel_kl
from densekd.losses.utils import align_spatial, pixel_entropy
from densekd.registry import MODELS

__all__ = ['CutMixPick', 'CutMixRun', 'build_cutmix_pick', 'cutmix_box', 'derangement']

#: The picking scores, by config name.
SCORES = ('kl', 'teacher_entropy', 'student_entropy')


class CutMixRun(NamedTuple):
    """One CutMix pass: the mixed images and how they were made.

    Attributes:
        images: ``(B, C, H, W)``; image ``i`` is ``x[i]`` with ``x[perm[i]]`` inside the box.
        perm: ``(B,)`` source index of each image's box (no fixed points).
        box: ``(y1, y2, x1, x2)``, the pasted rows ``y1:y2`` and columns ``x1:x2``.
        lam: fraction of each image that is its own, ``1 − box area / (H·W)``.
    """

    images: torch.Tensor
    perm: torch.Tensor
    box: Tuple[int, int, int, int]
    lam: float


def cutmix_box(height: int, width: int, lam: float, cy: int, cx: int
               ) -> Tuple[Tuple[int, int, int, int], float]:
    """The CutMix box for ``λ`` centred at ``(cy, cx)``, clipped, and the recomputed ``λ``.

    The box's unclipped sides are ``int(H·√(1 − λ))`` and ``int(W·√(1 − λ))``, centred on the
    given pixel as in CutMix's ``rand_bbox`` (Yun et al., ICCV 2019,
    github.com/clovaai/CutMix-PyTorch), then clipped to the image.

    Args:
        height: image height ``H``.
        width: image width ``W``.
        lam: the drawn ``λ`` in [0, 1].
        cy: centre row in ``[0, H)``.
        cx: centre column in ``[0, W)``.

    Returns:
        ``((y1, y2, x1, x2), lam)`` with ``lam = 1 − (y2 − y1)(x2 − x1) / (H·W)``.

    Example:
        >>> cutmix_box(10, 10, 0.75, cy=0, cx=9)  # 5x5 box, clipped to rows 0:2, cols 7:10
        ((0, 2, 7, 10), 0.94)
    """
    ratio = math.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    y1, y2 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, height)
    x1, x2 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, width)
    return (y1, y2, x1, x2), 1.0 - (y2 - y1) * (x2 - x1) / (height * width)


def derangement(n: int) -> torch.Tensor:
    """A uniformly random permutation of ``range(n)`` without fixed points (``n >= 2``).

    Rejection sampling (as the reference does): ``randperm`` until no index maps to itself;
    about ``e ≈ 2.7`` draws on average.
    """
    if n < 2:
        raise ValueError(f'a permutation without fixed points needs n >= 2, got {n}')
    index = torch.arange(n)
    while True:
        perm = torch.randperm(n)
        if not (perm == index).any():
            return perm


@contextlib.contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Run a block with ``module`` in eval mode, then restore its own mode."""
    training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(training)


@MODELS.register_module()
class CutMixPick:
    """CutMix ``runs`` times, keep the ``n_pick`` highest-scoring mixed images.

    Scoring runs under ``torch.no_grad`` and returns images without graph. The teacher is
    scored as it is (a distiller keeps it in eval mode). The student, for the ``'kl'`` and
    ``'student_entropy'`` scores, is scored in **eval mode** (and put back in its mode
    after). The reference scores its CIFAR students in train mode; here eval mode is chosen
    because (a) the smp DeepLabV3(+) heads have Dropout(0.5) in the ASPP, so in train mode the
    score would partly rank dropout masks, not images, and every scoring forward would move
    the random stream; (b) a train-mode forward, even without grad, moves the BatchNorm
    running statistics (what val/test use) with images the student is not trained on in that
    forward. The price: the student is scored with its running statistics, which lag its
    weights by ~1/momentum iterations (10 with PyTorch's 0.1) early in training.

    Args:
        score: ``'kl'`` (mean per-pixel ``KL(p_T^τ || p_S^τ)``, the reference default),
            ``'teacher_entropy'`` (mean per-pixel teacher entropy, the paper's "T. ent.";
            needs no student forward) or ``'student_entropy'`` ("S. ent.").
        runs: CutMix passes over the batch; the pool holds ``runs·B`` images (reference: 2).
        n_pick: images kept; None keeps ``B``, the batch size of the call (reference: the
            batch size). More than the pool keeps the whole pool.
        tau: softmax temperature of the ``'kl'`` score (the reference uses the KD
            temperature). The entropies use τ = 1, as the reference does.

    Example:
        >>> pick = CutMixPick(score='teacher_entropy')
        >>> picked = pick(images, teacher, student)  # B images, the hardest of 2B CutMixes
    """

    def __init__(self, score: str = 'kl', runs: int = 2, n_pick: Optional[int] = None,
                 tau: float = 1.0):
        if score not in SCORES:
            raise ValueError(f'model.cutmix_pick.score={score!r}: expected one of {SCORES}')
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise ValueError(f'model.cutmix_pick.runs={runs!r}: expected an integer >= 1')
        if n_pick is not None and (isinstance(n_pick, bool) or not isinstance(n_pick, int)
                                   or n_pick < 1):
            raise ValueError(f'model.cutmix_pick.n_pick={n_pick!r}: expected None or an '
                             f'integer >= 1')
        if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 0:
            raise ValueError(f'model.cutmix_pick.tau={tau!r}: expected a positive number')
        self.score_name = score
        self.runs = runs
        self.n_pick = n_pick
        self.tau = float(tau)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(score={self.score_name!r}, runs={self.runs}, '
                f'n_pick={self.n_pick}, tau={self.tau})')

    @staticmethod
    def _check_batch(images: torch.Tensor) -> None:
        if not isinstance(images, torch.Tensor) or images.dim() != 4:
            shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
            raise ValueError(f'model.cutmix_pick: expected a (B, C, H, W) batch, got {shape}')
        if images.shape[0] < 2:
            raise ValueError(f'model.cutmix_pick: CutMix pastes one image into another and '
                             f'needs a batch of at least 2 images, got {images.shape[0]}')

    def cutmix(self, images: torch.Tensor) -> CutMixRun:
        """One CutMix pass over ``images`` (``B >= 2``), see :class:`CutMixRun`."""
        self._check_batch(images)
        b, _, h, w = images.shape
        lam = float(torch.rand(()))  # Beta(1, 1)
        cy, cx = int(torch.randint(h, ())), int(torch.randint(w, ()))
        perm = derangement(b)
        box, lam = cutmix_box(h, w, lam, cy, cx)
        y1, y2, x1, x2 = box
        mixed = images.clone()
        mixed[:, :, y1:y2, x1:x2] = images[perm.to(images.device), :, y1:y2, x1:x2]
        return CutMixRun(mixed, perm, box, lam)

    def pool(self, images: torch.Tensor) -> torch.Tensor:
        """``runs`` CutMix passes, concatenated: ``(runs·B, C, H, W)``."""
        with torch.no_grad():
            return torch.cat([self.cutmix(images).images for _ in range(self.runs)])

    @torch.no_grad()
    def score(self, pool: torch.Tensor, teacher: nn.Module,
              student: Optional[nn.Module] = None) -> torch.Tensor:
        """One score per image of ``pool``, ``(N,)``: the mean over its pixels."""
        if self.score_name != 'teacher_entropy':
            if student is None:
                raise ValueError(f'model.cutmix_pick.score={self.score_name!r} needs the '
                                 f'student')
            with _eval_mode(student):
                s_logits = student(pool).float()
        if self.score_name == 'student_entropy':
            per_pixel = pixel_entropy(s_logits)
        else:
            t_logits = teacher(pool).float()
            if self.score_name == 'teacher_entropy':
                per_pixel = pixel_entropy(t_logits)
            else:
                s_logits, t_logits = align_spatial(
                    s_logits, t_logits, None if s_logits.shape == t_logits.shape else 'student')
                per_pixel = pixel_kl(s_logits, t_logits, self.tau)
        return per_pixel.flatten(1).mean(dim=1)

    def pick(self, pool: torch.Tensor, scores: torch.Tensor, n: int) -> torch.Tensor:
        """The ``n`` images of ``pool`` with the highest ``scores``, highest first."""
        index = scores.topk(min(n, pool.shape[0])).indices
        return pool[index]

    def __call__(self, images: torch.Tensor, teacher: nn.Module,
                 student: Optional[nn.Module] = None) -> torch.Tensor:
        """The picked CutMix images of ``images`` (``n_pick`` or ``B`` of them, no graph).

        Args:
            images: a normalised batch ``(B, C, H, W)``, ``B >= 2``.
            teacher: the teacher segmentor (logits at any size).
            student: the student segmentor (only read by the ``'kl'`` and
                ``'student_entropy'`` scores).

        Raises:
            ValueError: fewer than 2 images, or a student score without a student.
        """
        self._check_batch(images)
        pool = self.pool(images)
        return self.pick(pool, self.score(pool, teacher, student),
                         self.n_pick or images.shape[0])


def build_cutmix_pick(cfg: Optional[dict]) -> Optional[CutMixPick]:
    """Build a regime's ``model.cutmix_pick`` (``type`` defaults to ``'CutMixPick'``).

    Args:
        cfg: ``dict(type='CutMixPick', score=..., runs=..., n_pick=..., tau=...)`` or None.

    Returns:
        The picker, or None for None.
    """
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise ValueError(f"model.cutmix_pick: expected dict(type='CutMixPick', ...) or None, "
                         f"got {cfg!r}")
    cfg = dict(cfg)
    cfg.setdefault('type', 'CutMixPick')
    return MODELS.build(cfg)
