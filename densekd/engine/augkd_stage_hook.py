"""AuGKDStageHook: AuG-KD's per-stage checkpoints (``<work_dir>/augkd_<stage>.pth``).

AuG-KD (:class:`densekd.algorithms.AuGKD`) runs its data-free, anchor and mixup stages in one
training run. When the data-free stage ends the hook writes the generator and encoder, when the
anchor stage ends the AnchorNet, each atomically, so that a later stage can be rerun alone with
``model.stage_checkpoints``. Before training it checks that ``train_cfg.max_iters`` leaves
the mixup stage at least one iteration. Models without stages are ignored.
"""
from __future__ import annotations

import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from densekd.registry import HOOKS
from densekd.utils.atomic import save_torch_atomic


def _staged_model(runner):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    return model if hasattr(model, 'stage_state') else None


@HOOKS.register_module()
class AuGKDStageHook(Hook):
    """Write ``augkd_<stage>.pth`` in the work dir at the end of each pre-mixup stage."""

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        model = _staged_model(runner)
        if model is not None:
            model.check_max_iters(runner.max_iters)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = _staged_model(runner)
        if model is None or not is_main_process():
            return
        done = runner.iter + 1  # the loop counts the iteration after its hooks
        starts = dict(data_free=0, anchor=model.stage_ends()['data_free'])
        for stage, end in model.stage_ends().items():
            if done == end and end > starts[stage]:
                path = osp.join(runner.work_dir, f'augkd_{stage}.pth')
                save_torch_atomic(model.stage_state(stage), path)
                print_log(f'AuG-KD stage {stage} ended at iteration {done}: wrote {path}',
                          logger='current')
