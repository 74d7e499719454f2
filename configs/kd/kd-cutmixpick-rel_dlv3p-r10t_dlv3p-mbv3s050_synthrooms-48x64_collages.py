# KD-REL with CutMixPick on the 48x64 tier (the collages only): each step distils on the
# collage crops and as many CutMixes of them, the highest-teacher-entropy half of two passes.
_base_ = ['./kd-rel_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_collages.py',
          '../_base_/cutmix_pick.py']
model = dict(cutmix_pick={{_base_.cutmix_pick}})
