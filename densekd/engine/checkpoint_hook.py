"""mmengine's ``CheckpointHook`` made crash-safe: nothing is deleted before its successor exists.

mmengine 0.10.7's hook removes the oldest checkpoint (``max_keep_ckpts``) *before* saving the
new one, and the previous best checkpoint *before* saving the new best; a process killed in
between loses both. Here every checkpoint is written atomically (the ``Runner.save_checkpoint``
patch in :mod:`densekd.utils.compat`), ``last_checkpoint`` too, and an outdated or previous
best checkpoint is removed only once its successor is complete on disk. The config interface
is mmengine's (``interval``, ``max_keep_ckpts``, ``save_best``, ``rule``, ...).
"""
from __future__ import annotations

import os.path as osp
from typing import Dict, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from densekd.registry import HOOKS
from densekd.utils.atomic import remove_stale_temporaries, write_text_atomic
from densekd.utils.resume import LAST_CHECKPOINT


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves, rotation and best-checkpoint updates survive a kill.

    At any moment the work dir holds complete checkpoints only (an interrupted save leaves a
    ``<name>.<pid>.tmp`` file, removed at the next start), ``last_checkpoint`` names a complete
    checkpoint, and the best checkpoint of the last completed update exists.

    Takes :class:`mmengine.hooks.CheckpointHook`'s arguments.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not is_main_process() or '://' in str(self.out_dir):
            return
        for folder in {str(self.out_dir), runner.work_dir}:
            if osp.isdir(folder):
                for path in remove_stale_temporaries(folder):
                    runner.logger.info(f'removed {path}, an unfinished save of a killed run')

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed are folders
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        outdated = []
        # _save_checkpoint and _save_best_checkpoint may both save the same step.
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(self.out_dir, filename, self.file_client_args,
                               save_optimizer=self.save_optimizer,
                               save_param_scheduler=self.save_param_scheduler, meta=meta,
                               by_epoch=self.by_epoch, backend_args=self.backend_args,
                               **self.args)
        if not is_main_process():
            return
        write_text_atomic(osp.join(runner.work_dir, LAST_CHECKPOINT), self.last_ckpt)
        for old in outdated:  # only now that the new checkpoint is complete
            self._remove(self.file_backend.join_path(self.out_dir,
                                                     self.filename_tmpl.format(old)))

    def _best_paths(self) -> Dict[Optional[str], Optional[str]]:
        if hasattr(self, 'best_ckpt_path_dict'):  # several save_best metrics
            return dict(self.best_ckpt_path_dict)
        return {None: getattr(self, 'best_ckpt_path', None)}

    def _set_best_path(self, key: Optional[str], path: Optional[str]) -> None:
        if key is None:
            self.best_ckpt_path = path
        else:
            self.best_ckpt_path_dict[key] = path

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not self.save_best:
            return
        previous = self._best_paths()
        # mmengine removes the previous best it knows of before writing the new one: hide it.
        for key in previous:
            self._set_best_path(key, None)
        super()._save_best_checkpoint(runner, metrics)
        for key, old in previous.items():
            new = self._best_paths().get(key)
            if new is None:  # no better score for this metric
                self._set_best_path(key, old)
            elif (old and new != old and is_main_process()
                  and self.file_backend.isfile(new)):
                self._remove(old)
                runner.logger.info(f'The previous best checkpoint {old} is removed')
