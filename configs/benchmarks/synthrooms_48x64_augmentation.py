# Good-DA-in-KD on the 48x64 tier: blind KD on the bundled photos with five augmentation
# pipelines, the students' ranking to compare with the teacher-only T. stddev ranking of
#   python tools/analyze_augmentation.py <the same configs>
# Run: python tools/benchmark.py configs/benchmarks/synthrooms_48x64_augmentation.py
_base_ = ['./synthrooms_48x64.py']
_blind = 'kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos'
description = ('SynthRooms test split (200 images, 48x64), 13 classes. Blind KD on the '
               'bundled photos, one row per augmentation pipeline of the photo crops; '
               'teacher and student as in synthrooms_48x64.')
methods = [
    dict(name='identity', config=f'configs/augmentation/{_blind}_identity.py'),
    dict(name='flip (blind KD)', config=f'configs/kd/{_blind}.py'),
    dict(name='flip + jitter', config=f'configs/augmentation/{_blind}_jitter.py'),
    dict(name='flip + cutout', config=f'configs/augmentation/{_blind}_cutout.py'),
    dict(name='strong', config=f'configs/augmentation/{_blind}_strong.py'),
]
lower, upper = None, None
