"""Multi-process training helpers: the process group on CPU, and keeping replicas identical.

densekd trains several players with their own optimizers and calls submodules directly from
``train_step``, which ``DistributedDataParallel`` (one wrapper around the whole model, one
backward per forward) does not fit. Instead, each optimizer step averages the gradients of
*its own* parameters over the ranks (:func:`update_params`), and the model wrapper
(:class:`densekd.engine.DistributedAlgorithmWrapper`) broadcasts the buffers from rank 0 after
every iteration. Every rank then takes the same steps from the same state: the replicas stay
identical, as with ``DistributedDataParallel`` (``broadcast_buffers=True``). The ranks draw
different random numbers (:func:`offset_seeds_by_rank`), so they train on different samples.
"""
from __future__ import annotations

import datetime
from collections import OrderedDict
from typing import Dict, Iterable, List, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import all_reduce, broadcast, get_rank, get_world_size
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmengine.runner.utils import set_random_seed
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


def setup_launcher(cfg: Config, launcher: str) -> None:
    """Set ``cfg.launcher``; without CUDA, start the process group on gloo.

    The configs name ``nccl`` (GPUs). On a machine without CUDA (or with
    ``CUDA_VISIBLE_DEVICES=-1``) a distributed launch switches ``env_cfg.dist_cfg.backend`` to
    ``gloo``, and for ``--launcher pytorch`` (``torchrun``) creates the process group here,
    because mmengine's own initialisation selects a CUDA device first.

    Args:
        cfg: the loaded config (changed in place).
        launcher: ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.

    Raises:
        ValueError: ``slurm`` or ``mpi`` without CUDA (mmengine assigns GPUs there).
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise ValueError(f'--launcher {launcher} needs CUDA devices; on a machine without CUDA '
                         f'start the processes with torchrun and --launcher pytorch')
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = dict(env_cfg.get('dist_cfg') or {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    if not torch_dist.is_initialized():
        kwargs = dict(dist_cfg)
        if kwargs.get('timeout') is not None:  # seconds in the config, as mmengine's
            kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
        torch_dist.init_process_group(**kwargs)  # env:// (RANK, WORLD_SIZE, MASTER_*)
    print_log(f'no CUDA: distributed backend {dist_cfg["backend"]}', logger='current')


def _groups(tensors: Iterable[torch.Tensor]) -> List[List[torch.Tensor]]:
    """``tensors`` grouped by device and dtype (each group is flattened into one message)."""
    groups: Dict[Tuple[torch.device, torch.dtype], List[torch.Tensor]] = OrderedDict()
    for t in tensors:
        groups.setdefault((t.device, t.dtype), []).append(t)
    return list(groups.values())


def all_reduce_gradients(params: Iterable[torch.nn.Parameter]) -> None:
    """Average the gradients of ``params`` over the ranks, in place (no-op in one process).

    A parameter that got no gradient on some rank counts as a zero gradient there (as
    ``DistributedDataParallel(find_unused_parameters=True)`` treats it); one that got none on
    any rank keeps ``grad=None``, so the optimizer skips it as it would in one process. The
    presence flags travel in the same message as the gradients: one all-reduce per dtype.

    Args:
        params: the parameters of one optimizer, in the same order on every rank.
    """
    world = get_world_size()
    if world == 1:
        return
    params = [p for p in params if p.requires_grad or p.grad is not None]
    for group in _groups(params):
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in group]
        present = torch.tensor([p.grad is not None for p in group], dtype=group[0].dtype,
                               device=group[0].device)
        flat = _flatten_dense_tensors(grads + [present])
        all_reduce(flat, op='sum')
        *reduced, count = _unflatten_dense_tensors(flat, grads + [present])
        for p, grad, n in zip(group, reduced, count.tolist()):
            if n == 0:
                continue
            grad.div_(world)
            if p.grad is None:
                p.grad = grad
            else:
                p.grad.copy_(grad)


def update_params(wrapper: OptimWrapper, loss: torch.Tensor) -> None:
    """:meth:`OptimWrapper.update_params`, with the gradients averaged over ranks first.

    Backward, then, when the wrapper's accumulation says so, all-reduce the gradients of its
    parameters, step (gradient clipping and AMP unscaling see the averaged gradients, the same
    on every rank) and zero them. In one process this is exactly ``wrapper.update_params``.

    Args:
        wrapper: the optimizer wrapper of the player being updated.
        loss: the player's total loss.
    """
    wrapper.backward(wrapper.scale_loss(loss))
    if wrapper.should_update():
        all_reduce_gradients(p for group in wrapper.optimizer.param_groups
                             for p in group['params'])
        wrapper.step()
        wrapper.zero_grad()


def broadcast_tensors(tensors: Iterable[torch.Tensor], src: int = 0) -> None:
    """Overwrite ``tensors`` in place with rank ``src``'s (no-op in one process)."""
    if get_world_size() == 1:
        return
    for group in _groups(t.detach() for t in tensors if t.numel()):
        flat = _flatten_dense_tensors(group)
        broadcast(flat, src=src)
        for t, value in zip(group, _unflatten_dense_tensors(flat, group)):
            t.copy_(value)  # detached views: parameters are overwritten outside autograd


def offset_seeds_by_rank() -> None:
    """Give each rank its own random streams: rank ``r`` reseeds with the run's seed + ``r``.

    mmengine seeds every rank alike (``randomness.seed``, ``diff_rank_seed=False``), which keeps
    the data samplers' shuffles shared, as their sharding needs. What else draws random numbers
    must differ per rank, or the replicas would train on the same samples: the generators'
    latent codes, the replay pool's draws and the augmentations. Rank 0 keeps its stream, so it
    draws what a single-process run draws. Call it after the runner seeded and built the model
    and before it builds the dataloaders (their worker seeds come from this stream).
    """
    rank = get_rank()
    if rank > 0:
        set_random_seed(torch.initial_seed() + rank)
