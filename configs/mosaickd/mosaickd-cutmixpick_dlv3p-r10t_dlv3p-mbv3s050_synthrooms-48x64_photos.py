# Dense MosaicKD with CutMixPick on the 48x64 tier (the bundled photos): each student step
# distils on its 8 mosaics, its 8 photo crops and the 8 CutMixes of those crops, of 16, with the
# highest mean teacher entropy (24 images per student step instead of 16).
_base_ = ['./mosaickd_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py',
          '../_base_/cutmix_pick.py']
model = dict(cutmix_pick={{_base_.cutmix_pick}})
