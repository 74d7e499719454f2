"""Segment your own images: a colour overlay with a legend and the mask as a paletted PNG.

    python tools/infer.py EXPORT_DIR INPUT... --out DIR
    python tools/infer.py CONFIG CKPT INPUT... --out DIR [--model student|teacher]

``EXPORT_DIR`` is a folder written by ``tools/export_weights.py CKPT --smp-dir EXPORT_DIR``
(smp's own format plus ``densekd.json``: normalisation, class names, palette, input size).
``CONFIG CKPT`` is a densekd config and a checkpoint of it (a training checkpoint, or a plain
state dict / ``.safetensors`` of the network). Each ``INPUT`` is an image, a folder (its images,
sorted) or a glob such as ``'photos/*.jpg'``.

For each image ``NAME.EXT`` it writes ``DIR/NAME_overlay.jpg`` (the image with the predicted
classes blended in, and a legend of the classes present) and ``DIR/NAME.png``, the mask as a
paletted PNG: its pixel values are the class ids, and any viewer shows them in colour (the
PASCAL VOC convention). Images are resized to the model's input size (``--size H W`` overrides;
``--size 0 0`` keeps each image's own size) and the prediction is resized back to the image.
"""
import argparse
import glob
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from tqdm import tqdm  # noqa: E402

import densekd  # noqa: E402,F401
from densekd.datasets.nyuv2 import IMG_EXTENSIONS, read_image_rgb  # noqa: E402
from densekd.models.segmentors import forward_padded  # noqa: E402
from densekd.models.smp_export import is_smp_export, load_smp_export  # noqa: E402
from densekd.visualization.label_png import write_label_png  # noqa: E402
from densekd.visualization.overlay import draw_legend, overlay_mask  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Segment images with an exported student or a densekd checkpoint.',
        usage='infer.py EXPORT_DIR INPUT... --out DIR\n'
              '       infer.py CONFIG CKPT INPUT... --out DIR [--model student|teacher]')
    parser.add_argument('model_and_inputs', nargs='+', metavar='ARG',
                        help='EXPORT_DIR INPUT..., or CONFIG CKPT INPUT...')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--model', choices=['student', 'teacher'], default='student',
                        help='with CONFIG CKPT: which network of a distiller runs')
    parser.add_argument('--size', nargs=2, type=int, metavar=('H', 'W'),
                        help='inference size (default: the model\'s; 0 0 = each image\'s own)')
    parser.add_argument('--alpha', type=float, default=0.5, help='overlay opacity of the mask')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow a CKPT that is a full pickle (only for files you trust)')
    args = parser.parse_args(argv)
    first = args.model_and_inputs[0]
    if osp.isdir(first) and is_smp_export(first):
        args.export, args.config, args.checkpoint = first, None, None
        args.inputs = args.model_and_inputs[1:]
    elif first.endswith('.py'):
        if len(args.model_and_inputs) < 2:
            parser.error('CONFIG needs a checkpoint: infer.py CONFIG CKPT INPUT... --out DIR')
        args.export = None
        args.config, args.checkpoint = args.model_and_inputs[:2]
        args.inputs = args.model_and_inputs[2:]
    else:
        parser.error(f'{first} is neither an export folder (config.json + densekd.json, from '
                     f'tools/export_weights.py --smp-dir) nor a config file (.py)')
    if not args.inputs:
        parser.error('no INPUT given: an image, a folder or a glob')
    return args


def list_images(inputs):
    """Image files named by ``inputs`` (files, folders, globs), in order, without repeats.

    Raises:
        SystemExit: an input matches no image (names it).
    """
    found = []
    for item in inputs:
        if osp.isdir(item):
            paths = sorted(osp.join(item, n) for n in os.listdir(item)
                           if n.lower().endswith(IMG_EXTENSIONS))
        elif osp.isfile(item):
            paths = [item]
        else:
            paths = sorted(p for p in glob.glob(item) if p.lower().endswith(IMG_EXTENSIONS))
        if not paths:
            raise SystemExit(f'{item}: no image there (expected a file, a folder or a glob of '
                             f'{", ".join(IMG_EXTENSIONS)} files)')
        found += [p for p in paths if p not in found]
    return found


def load_model(args):
    """``(network, meta)``: the network in eval mode and its inference metadata."""
    if args.export:
        return load_smp_export(args.export)
    from densekd.models.segmentors import build_segmentor, load_state, segmentor_state
    from densekd.models.smp_export import inference_metadata
    from densekd.utils.checkpoint import load_checkpoint, trusted_checkpoints
    from densekd.utils.config import load_config
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_config(args.config)
    name = 'segmentor' if 'segmentor' in cfg.model else args.model
    if name not in cfg.model:
        raise SystemExit(f'{args.config}: the model has no {args.model!r} network')
    net_cfg = {k: v for k, v in dict(cfg.model[name]).items() if k not in ('type', 'checkpoint')}
    net = build_segmentor(**net_cfg)
    with trusted_checkpoints(args.trust_checkpoint):
        state = segmentor_state(load_checkpoint(args.checkpoint, map_location='cpu'),
                                args.checkpoint)
    # A training checkpoint holds every network under its name; a plain state dict has none.
    prefix = f'{name}.' if any(k.startswith(f'{name}.') for k in state) else None
    load_state(net, state, args.checkpoint, prefix)
    return net.eval(), inference_metadata(cfg, net_cfg['classes'])


@torch.no_grad()
def predict(net, image, meta, size=None):
    """Class ids (H×W uint8) of an RGB uint8 image, at the image's own size."""
    h, w = image.shape[:2]
    x = (image.astype(np.float32) / 255 - np.asarray(meta['mean'], np.float32)) \
        / np.asarray(meta['std'], np.float32)
    x = torch.from_numpy(x.transpose(2, 0, 1).copy())[None]
    if size:
        x = F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)
    logits = forward_padded(net, x)
    if logits.shape[-2:] != (h, w):
        logits = F.interpolate(logits, size=(h, w), mode='bilinear', align_corners=False)
    return logits.argmax(1)[0].numpy().astype(np.uint8)


def write_outputs(image, mask, meta, out_dir, stem, alpha=0.5):
    """``stem_overlay.jpg`` (overlay + legend of the classes present) and ``stem.png``."""
    palette = np.asarray(meta['palette'], dtype=np.uint8)
    write_label_png(osp.join(out_dir, stem + '.png'), mask, palette)
    overlay = overlay_mask(image, mask, palette, alpha=alpha)
    legend = draw_legend(meta['classes'], palette, present=np.unique(mask).tolist())
    canvas = _stack(overlay, legend)
    path = osp.join(out_dir, stem + '_overlay.jpg')
    if not cv2.imwrite(path, cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)):
        raise OSError(f'cv2.imwrite failed for {path}')


def _stack(image, legend):
    """The legend to the right of the image, both on a white canvas."""
    h = max(image.shape[0], legend.shape[0])
    canvas = np.full((h, image.shape[1] + legend.shape[1], 3), 255, np.uint8)
    canvas[:image.shape[0], :image.shape[1]] = image
    canvas[:legend.shape[0], image.shape[1]:] = legend
    return canvas


def main(argv=None):
    args = parse_args(argv)
    paths = list_images(args.inputs)
    net, meta = load_model(args)
    size = args.size if args.size is not None else meta.get('input_size')
    size = None if not size or 0 in size else size
    os.makedirs(args.out, exist_ok=True)
    stems = set()
    for path in tqdm(paths, desc='infer', unit='img', disable=len(paths) < 2):
        image = read_image_rgb(path)
        stem = osp.splitext(osp.basename(path))[0]
        while stem in stems:  # same name in two input folders
            stem += '_'
        stems.add(stem)
        write_outputs(image, predict(net, image, meta, size), meta, args.out, stem, args.alpha)
    print(f'wrote {len(paths)} overlays and paletted masks to {args.out}')


if __name__ == '__main__':
    main()
