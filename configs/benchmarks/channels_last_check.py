# Does channels-last change what a student learns? Blind KD with and without it at an equal
# number of steps (3 seeds); the speed of each row is in the table too. Run with the suite
# teacher's checkpoint: python tools/benchmark.py configs/benchmarks/channels_last_check.py
#   --teacher work_dirs/benchmarks/teachers/<...>/teacher.pth
_base_ = ['./synthrooms_cpu.py']
description = ('Blind KD on the bundled photos with and without channels-last weights, at '
               'equal student steps.')
methods = [
    dict(name='blind KD contiguous',
         config='configs/kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos_contiguous.py'),
    dict(name='blind KD channels-last',
         config='configs/kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py'),
]
budget_s = None
steps = 100
num_evals = 1
lower = None
upper = None
