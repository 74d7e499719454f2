# Blind KD plus KD with an auxiliary variable (Peng et al., ICML 2024, made per pixel): the
# student's decoder map, projected to the teacher's width, picks which queued teacher pixels it
# belongs to (vMF over cosines, kappa = 10), and the queued teacher posteriors give its
# predictive distribution (docs/methods.md, "KD with an auxiliary variable (dense)"). The pixel
# KD term of blind KD stays as it is; the loss's other hyper-parameters are its defaults (queue
# of 4096 pixels, 16 pixels of each image enqueued per step, tau = alpha = beta = 1).
_base_ = ['./kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py']
model = dict(losses=dict(aux=dict(
    type='AuxVariableKDLoss', loss_weight=1.0,
    student_channels={{_base_.model.student.decoder_channels}},
    teacher_channels=256,  # smp's default decoder width (the teacher sets none)
    num_classes={{_base_.model.teacher.classes}},
    student='decoder', teacher='decoder', teacher_logits='segmentation_head.0')))
# The loss's 1x1 projection trains with the student, in the student's optimizer.
optim_wrapper = dict(student=dict(with_children=['distill_losses']))
