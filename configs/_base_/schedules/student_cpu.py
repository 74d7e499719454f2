_base_ = ["../default_runtime.py"]
# Student schedule sized for a 2-core CPU: AdamW, one cosine over the run's progress
# (BudgetTrainLoop), evaluated once at the end (no best-on-test selection). The budget is
# train_cfg.max_iters steps, or train_cfg.budget_s seconds when set; the schedule follows either.
max_iters = 400
optim_wrapper = dict(constructor='SubmoduleOptimConstructor',
                     student=dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4)))
param_scheduler = None
train_cfg = dict(type='BudgetTrainLoop', max_iters=max_iters, budget_s=None, num_evals=1,
                 lr_schedule='cosine', eta_min=1e-5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The last checkpoint is saved when the budget ends (save_last); no interval checkpoints.
default_hooks = dict(checkpoint=dict(interval=10 ** 9, save_best=None, save_last=True))
