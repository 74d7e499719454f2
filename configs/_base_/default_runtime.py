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
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2,
                    save_best='mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook', draw=False),
    # run_summary.json: progress, steps per player, losses, evaluations (read by the tools)
    run_summary=dict(type='RunSummaryHook'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
load_from = None
resume = False
