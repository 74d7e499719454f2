"""densekd.utils.distributed: gradient averaging, rank-0 broadcasts and seeds on two gloo ranks.

The two-rank checks run in processes spawned here (no Runner); the whole training path is
tested end to end in tests/test_tools_distributed.py.
"""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.config import Config
from mmengine.optim import OptimWrapper

from densekd.engine.budget_loop import rank0_value
from densekd.utils.distributed import (all_reduce_gradients, broadcast_tensors,
                                       offset_seeds_by_rank, setup_launcher, update_params)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE='2',
                      MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), CUDA_VISIBLE_DEVICES='')
    torch.set_num_threads(1)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl', timeout=60))))
    setup_launcher(cfg, 'pytorch')  # no CUDA here: gloo, and the process group is started
    # Gradients: one on both ranks, one on rank 1 only, one on neither.
    both, one, none = (torch.nn.Parameter(torch.zeros(3)) for _ in range(3))
    both.grad = torch.full((3,), float(rank + 1))
    if rank == 1:
        one.grad = torch.full((3,), 4.0)
    all_reduce_gradients([both, one, none])
    # Buffers and values: rank 0's everywhere.
    buffers = [torch.full((2,), float(rank)), torch.tensor([rank], dtype=torch.long)]
    broadcast_tensors(buffers)
    torch.manual_seed(0)
    offset_seeds_by_rank()
    torch.save(dict(both=both.grad, one=one.grad, none=none.grad, buffers=buffers,
                    draw=torch.rand(4), clock=rank0_value(10.0 + rank),
                    backend=cfg.env_cfg.dist_cfg.backend),
               os.path.join(out_dir, f'rank{rank}.pth'))
    torch.distributed.destroy_process_group()


@pytest.mark.e2e  # two spawned processes: ~30 s on a busy 2-core machine
def test_two_ranks_average_gradients_share_buffers_and_draw_apart(tmp_path):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(tmp_path / f'rank{r}.pth') for r in range(2))
    for r in (r0, r1):
        assert r['backend'] == 'gloo'
        assert torch.equal(r['both'], torch.full((3,), 1.5))   # (1 + 2) / 2
        assert torch.equal(r['one'], torch.full((3,), 2.0))    # (0 + 4) / 2: zero where missing
        assert r['none'] is None                               # no rank had one: stays skipped
        assert torch.equal(r['buffers'][0], torch.zeros(2))
        assert int(r['buffers'][1]) == 0
        assert r['clock'] == 10.0
    torch.manual_seed(0)
    assert torch.equal(r0['draw'], torch.rand(4))  # rank 0 keeps the run's stream
    assert not torch.equal(r0['draw'], r1['draw'])


def test_update_params_is_the_wrappers_own_in_one_process():
    """Same steps as OptimWrapper.update_params, gradient accumulation included."""
    results = []
    for ours in (False, True):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 2)
        wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                               accumulative_counts=2)
        wrapper.initialize_count_status(model, 0, 4)
        for step in range(4):
            loss = model(torch.full((1, 4), float(step))).square().sum()
            update_params(wrapper, loss) if ours else wrapper.update_params(loss)
        results.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*results))


def test_setup_launcher_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    setup_launcher(cfg, 'none')
    assert cfg.launcher == 'none' and cfg.env_cfg.dist_cfg.backend == 'nccl'
    with pytest.raises(ValueError, match='torchrun and --launcher pytorch'):
        setup_launcher(cfg, 'slurm')
