# Blind KD with the networks' weights in the default (contiguous) memory format: the reference
# row of configs/benchmarks/channels_last_check.py (the SynthRooms models use channels-last).
_base_ = ['./kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py']
model = dict(channels_last=False)
