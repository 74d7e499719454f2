# The NYUv2 KD-OOD run with a torchvision DeepLabV3-ResNet50 teacher, e.g. the NYUv2 teacher
# released with DFAD (train_teacher_seg.py of github.com/VainF/Data-Free-Adversarial-Distillation
# saves a plain state dict of torchvision's dilated ResNet-50 and DeepLabHead, without the
# auxiliary head and with ASPP rates (12, 24, 32); its inputs are normalised with mean = std =
# 0.5, the NYUv2 base's data_norm). Any torchvision.models.segmentation file loads the same way.
_base_ = ['./kd-ood_dlv3-r50_dlv3-mbv2_nyuv2-128x128_imagenet.py']
teacher_checkpoint = 'checkpoint/teacher/nyuv2-deeplabv3_resnet50.pt'
model = dict(teacher=dict(_delete_=True, type='TorchvisionSegmentor', arch='deeplabv3_resnet50',
                          classes=13, aux_loss=False, atrous_rates=(12, 24, 32),
                          checkpoint=teacher_checkpoint))
