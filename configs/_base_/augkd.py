# AuG-KD's losses and mixup schedule (Tang et al., ICLR 2024, arXiv 2403.07030; the reference
# README's weights), shared by every AuG-KD config: the data-free generator's terms, the
# auxiliary student's KD loss, the anchor loss and the mixup schedule s = min((1-b)t/(aT)+b, 1).
augkd_generator_losses = dict(
    adv=dict(type='KLAdversarialLoss', loss_weight=1.0),
    onehot=dict(type='OnehotLoss', loss_weight=1.0),
    ie=dict(type='InformationEntropyLoss', loss_weight=20.0),
    bn=dict(type='BNStatisticsLoss', loss_weight=1.0))
augkd_aux_kd_loss = dict(type='PixelKDLoss', tau=1.0)
augkd_anchor_loss = dict(tau=1.0, invariant=0.25, label_weight=0.1, mask_reduction='batch')
augkd_mixup = dict(a=0.6, b=0.2)
