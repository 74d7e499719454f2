# The SynthRooms table on the small CPU tier (configs/_base_/tiers/synthrooms_48x64.py): 48x64
# images, DeepLabV3+ ResNet-10t teacher, DeepLabV3+ MobileNetV3-small-0.5 student; both OOD
# pools (related collages, unrelated photos), each MosaicKD row measured against KD on its own
# pool. Two budgets, both reported in the README:
#   python tools/benchmark.py configs/benchmarks/synthrooms_48x64.py        # 1000 student steps
#   python tools/benchmark.py configs/benchmarks/synthrooms_48x64.py --budget 150   # seconds
description = ('SynthRooms test split (200 images, 48x64), 13 classes. Teacher DeepLabV3+ '
               'ResNet-10t, student DeepLabV3+ MobileNetV3-small-0.5; the learning rates '
               'follow one cosine over each run\'s budget.')
teacher = dict(name='teacher DeepLabV3+ R10t (1200 it)',
               config='configs/teacher/deeplabv3plus_r10t_synthrooms-48x64.py')
_pair = 'dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64'
methods = [
    dict(name='KD-ORI', config=f'configs/kd/kd-ori_{_pair}.py'),
    dict(name='KD-REL', config=f'configs/kd/kd-rel_{_pair}_collages.py'),
    dict(name='blind KD', config=f'configs/kd/kd-blind_{_pair}_photos.py'),
    dict(name='DFAD', config=f'configs/dfad/dfad_{_pair}.py'),
    dict(name='DAFL', config=f'configs/dafl/dafl_{_pair}.py'),
    dict(name='MosaicKD (related)', config=f'configs/mosaickd/mosaickd_{_pair}_collages.py',
         baseline='KD-REL'),
    dict(name='MosaicKD (unrelated)', config=f'configs/mosaickd/mosaickd_{_pair}_photos.py',
         baseline='blind KD'),
]
student_steps = 1000  # equal student updates (the papers' framing); --budget S for seconds
seeds = 3
num_evals = 4
threads = 1
lower, upper = 'blind KD', 'KD-ORI'
