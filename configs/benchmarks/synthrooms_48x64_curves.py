# Learning curves on the 48x64 tier (configs/_base_/tiers/synthrooms_48x64.py): the two
# adversarial rows trained for 40 minutes each, side by side, one seed, 10 evaluations, to show
# where each plateaus against its generator steps (README: "The 48x64 tier"). The KD rows they
# are measured against come from configs/benchmarks/synthrooms_48x64.py at matching steps:
#   python tools/benchmark.py configs/benchmarks/synthrooms_48x64_curves.py
_base_ = ['./synthrooms_48x64.py']
_pair = 'dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64'
methods = [
    dict(name='DFAD', config=f'configs/dfad/dfad_{_pair}.py'),
    dict(name='MosaicKD (related)', config=f'configs/mosaickd/mosaickd_{_pair}_collages.py'),
]
student_steps = None
budget_s = 2400
seeds = 1
num_evals = 10
lower, upper = None, None
