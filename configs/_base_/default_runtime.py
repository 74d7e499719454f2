default_scope = 'densekd'
# Multi-process runs (torchrun ... --launcher pytorch): nccl, or gloo without CUDA (set by the
# tools); the wrapper keeps each algorithm's train_step and the replicas identical. Its type is
# scope-qualified because mmengine's runner looks it up in the root registry.
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
model_wrapper_cfg = dict(type='densekd.DistributedAlgorithmWrapper')
randomness = dict(seed=0)
log_processor = dict(by_epoch=False, window_size=10)
log_level = 'INFO'
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # losses at iterations 1, 2, 5, 10 (a 1-2-5 ladder below the interval), then every
    # `interval`, and at the last iteration (densekd/engine/logger_hook.py)
    logger=dict(type='EarlyLoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmengine's CheckpointHook made crash-safe (atomic saves; nothing removed before its
    # successor is complete), same arguments; it keeps the last checkpoint (with the optimizer
    # state, for --resume) and the best one (weights only: mmengine saves it so)
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=500,
                    max_keep_ckpts=1,
                    save_best='mIoU', rule='greater'),
    # random streams in every checkpoint, restored on resume (exact resume)
    random_state=dict(type='RandomStateHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook', draw=False),
    # run_summary.json: progress, steps per player, losses, evaluations (read by the tools)
    run_summary=dict(type='RunSummaryHook'),
    # stop on NaN/inf weights; no checkpoint is ever written from them
    finite_check=dict(type='FiniteCheckHook'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
load_from = None
resume = False
# Point every OOD image pool of a config at your own folder of images (searched recursively),
# e.g. --cfg-options ood_root=~/photos; None keeps each config's own pool (densekd.utils.ood_root).
ood_root = None
