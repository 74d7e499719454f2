# Blind KD with CutMixPick on the 48x64 tier (the bundled photos only): each step distils on
# the 16 photo crops and the 16 CutMixes of them, of 32, with the highest mean teacher entropy.
_base_ = ['./kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py',
          '../_base_/cutmix_pick.py']
model = dict(cutmix_pick={{_base_.cutmix_pick}})
