# The small CPU tier: SynthRooms at 48x64 with a lighter DeepLabV3+ pair, sized so that the
# adversarial methods get thousands of generator steps within a CPU budget (README: "The 48x64
# tier"). A tier config inherits its 96x128 method config and this file, and swaps these values
# in; every name starts with tier_ so that none collides with a key of the method config.
tier_crop = (48, 64)
# The in-domain splits (train for KD-ORI and the teacher, test for every row) at 48x64. The
# pipelines and the normalisation are the SynthRooms base's: its crop keeps the render's size.
tier_rooms = dict(data_root='data/synthrooms_48x64', num_train=800, num_test=200,
                  height=tier_crop[0], width=tier_crop[1], seed=0)
# The OOD pools at the tier's size: the bundled photos (unrelated) and the collages (related),
# whose tiles scale with the canvas and whose sources are rendered at 48x64.
tier_photos = dict(crop_size=tier_crop)
tier_collages = dict(crop_size=tier_crop, tile_range=(6, 16),
                     data_root='data/synthrooms_48x64_collage_sources')
# Teacher DeepLabV3+ ResNet-10t and student DeepLabV3+ MobileNetV3-small-0.5, both with a
# 64-channel decoder: at 48x64 the output-stride-16 feature map is 3x4, hence atrous rates 1-3.
tier_teacher_arch = dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='tu-resnet10t',
                         classes=13, encoder_weights=None, decoder_channels=64,
                         decoder_atrous_rates=(1, 2, 3))
tier_teacher = dict(tier_teacher_arch,
                    checkpoint='work_dirs/teachers/deeplabv3plus_r10t_synthrooms-48x64.pth')
tier_student = dict(type='SmpSegmentor', arch='DeepLabV3Plus',
                    encoder_name='tu-mobilenetv3_small_050', classes=13, encoder_weights=None,
                    decoder_channels=64, decoder_atrous_rates=(1, 2, 3))
# What each family of tier configs merges into its 96x128 model: the pair, and for the
# generators the image size.
tier_kd_model = dict(teacher=tier_teacher, student=tier_student)
tier_generative_model = dict(tier_kd_model, generator=dict(img_size=tier_crop))
# MosaicKD: one student step per generator step (the 96x128 configs take 5), each on 8 mosaics
# + 8 photo crops (as many images as a KD step), a 16-channel patch generator and 10-px
# discriminator patches (22 px at 96x128). Measured on 2 threads (tools/benchmark.py --speed):
# 0.49 s per iteration, against 0.90 s with 16 + 16 images and the 32-channel generator.
tier_mosaickd_batch = 8
tier_mosaickd_student_steps = 1
tier_mosaickd_model = dict(tier_kd_model, generator=dict(img_size=tier_crop, ngf=16),
                           discriminator=dict(patch_size=10), batch_size=tier_mosaickd_batch,
                           student_steps=tier_mosaickd_student_steps)
# MosaicKD's loader gives each iteration one OOD chunk for D and one per student step.
tier_mosaickd_loader_batch = tier_mosaickd_batch * (1 + tier_mosaickd_student_steps)
# KD with an auxiliary variable: its loss projects the student's decoder map to the teacher's.
tier_auxvar_model = dict(tier_kd_model, losses=dict(aux=dict(
    student_channels=tier_student['decoder_channels'],
    teacher_channels=tier_teacher_arch['decoder_channels'])))
# AuG-KD: 8 generated images per data-free step with two auxiliary-student + encoder steps
# (the reference takes 5), 8 OOD + 8 mixed images per student step, a 16-channel encoder.
# max_iters gives the mixup stage (the student) 1000 steps.
tier_augkd_stage_iters = dict(data_free=400, anchor=150)
tier_augkd_model = dict(tier_kd_model, generator=dict(img_size=tier_crop),
                        encoder=dict(hidden_dims=(16, 32, 64, 64, 128)), batch_size=8,
                        aux_steps=2, stage_iters=tier_augkd_stage_iters)
tier_augkd_max_iters = sum(tier_augkd_stage_iters.values()) + 1000
