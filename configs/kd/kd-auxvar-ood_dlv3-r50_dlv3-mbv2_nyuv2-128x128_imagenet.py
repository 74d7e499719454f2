# KD on ImageNet-style OOD images plus the auxiliary-variable loss (Peng et al., ICML 2024,
# made per pixel; docs/methods.md, "KD with an auxiliary variable (dense)") on the DeepLabV3
# decoder maps (256 channels, smp's default width, at 1/8 of the input). The loss's other
# hyper-parameters are its defaults (queue of 4096 pixels, 16 per image and step, kappa = 10).
_base_ = ['./kd-ood_dlv3-r50_dlv3-mbv2_nyuv2-128x128_imagenet.py']
model = dict(losses=dict(aux=dict(
    type='AuxVariableKDLoss', loss_weight=1.0, student_channels=256, teacher_channels=256,
    num_classes={{_base_.model.teacher.classes}},
    student='decoder', teacher='decoder', teacher_logits='segmentation_head.0')))
# The loss's 1x1 projection trains with the student, in the student's optimizer.
optim_wrapper = dict(student=dict(with_children=['distill_losses']))
