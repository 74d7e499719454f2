# Dense MosaicKD whose generator assembles its mosaics from real photo crops
# (OODMosaicGenerator: learnt soft masks over 6 crops per mosaic) instead of drawing them from
# noise; everything else as the PatchGenerator config. Patches are real OOD patches from the
# first step, so the generator only learns where which crop goes.
_base_ = ['./mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py']
model = dict(generator=dict(_delete_=True, type='OODMosaicGenerator', num_sources=6, nz=8,
                            global_nz=8, width=32, grid_stride=16, img_size=(96, 128)))
