_base_ = ['./student_cpu.py']
# Generator-based regimes on a 2-core CPU: AdamW for the student, Adam(0.5, 0.999) for the
# generator (and the discriminator, where a config adds one), as the MosaicKD reference; every
# learning rate follows the budget loop's cosine.
max_iters = 100
optim_wrapper = dict(
    generator=dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))))
train_cfg = dict(max_iters=max_iters)
custom_hooks = [dict(type='GeneratorSamplesHook', interval=50, num_samples=8)]
