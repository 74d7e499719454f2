# The SynthRooms method table on a 2-core CPU (`make bench`): DeepLabV3+ ResNet-18 teacher,
# DeepLabV3+ MobileNetV2 student, 96x128 images; every method gets the same training seconds
# (one thread per run, two runs side by side) and 3 seeds. Run with
#   python tools/benchmark.py configs/benchmarks/synthrooms_cpu.py [--budget S | --steps N]
description = ('SynthRooms test split (200 images, 96x128), 13 classes. Teacher DeepLabV3+ '
               'ResNet-18, student DeepLabV3+ MobileNetV2; every row trains for the same '
               'budget with the learning rates on one cosine over the budget.')
teacher = dict(name='teacher DeepLabV3+ R18 (400 it)',
               config='configs/teacher/deeplabv3plus_r18_synthrooms-96x128_400it.py')
methods = [
    dict(name='KD-ORI', config='configs/kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'),
    dict(name='blind KD',
         config='configs/kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py'),
    dict(name='DFAD', config='configs/dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'),
    dict(name='DAFL', config='configs/dafl/dafl_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'),
    dict(name='MosaicKD',
         config='configs/mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py'),
]
budget_s = 240
seeds = 3
num_evals = 4
threads = 1
lower, upper = 'blind KD', 'KD-ORI'
