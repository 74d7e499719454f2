# The seed papers' other methods on the 48x64 tier, against blind KD on the same pool (the
# bundled photos, unrelated to the rooms) and KD on the rooms themselves (KD-ORI): KD with an
# auxiliary variable (Peng et al., ICML 2024), KD with CutMixPick (Wang et al., NeurIPS 2022)
# and AuG-KD (Tang et al., ICLR 2024). Same teacher, budget (1000 student steps) and seeds as
# synthrooms_48x64.
# Run: python tools/benchmark.py configs/benchmarks/synthrooms_48x64_seed_methods.py
_base_ = ['./synthrooms_48x64.py']
_pair = 'dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64'
description = ('SynthRooms test split (200 images, 48x64), 13 classes. Teacher DeepLabV3+ '
               'ResNet-10t, student DeepLabV3+ MobileNetV3-small-0.5; every OOD row uses the '
               'bundled photos; AuG-KD\'s 1000 student steps follow its 400 data-free and 150 '
               'anchor iterations.')
methods = [
    dict(name='KD-ORI', config=f'configs/kd/kd-ori_{_pair}.py'),
    dict(name='blind KD', config=f'configs/kd/kd-blind_{_pair}_photos.py'),
    dict(name='KD + aux. variable', config=f'configs/kd/kd-auxvar-blind_{_pair}_photos.py',
         baseline='blind KD'),
    dict(name='KD + CutMixPick', config=f'configs/kd/kd-cutmixpick-blind_{_pair}_photos.py',
         baseline='blind KD'),
    dict(name='AuG-KD', config=f'configs/augkd/augkd_{_pair}_photos.py', baseline='blind KD'),
]
