# CutMixPick (Wang et al., "What Makes a 'Good' Data Augmentation in Knowledge Distillation - A
# Statistical Perspective", NeurIPS 2022; github.com/MingSun-Tse/Good-DA-in-KD): CutMix the
# batch twice (the reference's mix_n_run = 2) and distil also on the B mixed images of the 2B
# with the highest mean per-pixel teacher entropy (the paper's "T. ent." variant), each with the
# teacher's own output as target. The reference code's default score is the per-pixel KL ('kl',
# with tau = the KD temperature); T. ent. is the cheapest, as it needs no extra student forward
# (docs/methods.md, "CutMixPick"). A config inherits this file and its plain counterpart and
# sets model.cutmix_pick to this dict (KD and MosaicKD take it).
cutmix_pick = dict(type='CutMixPick', score='teacher_entropy', runs=2)
