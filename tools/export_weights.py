"""Export one network of a densekd checkpoint: smp's own format, or a plain state dict.

``python tools/export_weights.py CKPT --smp-dir DIR`` writes ``DIR`` in smp's own format
(``save_pretrained``: ``config.json`` + ``model.safetensors``) plus ``DIR/densekd.json`` (input
normalisation, class names, palette, input size), which ``tools/infer.py DIR IMAGE...`` reads.
smp loads it with no densekd and no network access::

    import segmentation_models_pytorch as smp
    model = smp.from_pretrained('DIR').eval()

``python tools/export_weights.py CKPT OUT.pth`` writes ``OUT.pth`` (torch state dict) and
``OUT.safetensors``, holding only that network's weights (no other network, generator or
optimizer), plus ``OUT.json`` with the smp constructor arguments when the checkpoint's config
names them. Both outputs can be asked for at once. ``--net`` picks the network: ``student`` or
``teacher`` of a distillation run, ``segmentor`` of a teacher training run (``configs/teacher``);
by default the segmentor when the checkpoint has one, else the student. Load the state dict
without densekd::

    import json, segmentation_models_pytorch as smp, torch
    args = json.load(open('OUT.json'))
    model = getattr(smp, args.pop('arch'))(**args)
    model.load_state_dict(torch.load('OUT.pth'))  # weights_only=True (torch's default)

A ``TorchvisionSegmentor`` network is written the same way, as a torchvision state dict for
``torchvision.models.segmentation.<arch>``; its ``OUT.json`` keeps ``"type"`` to say so.

Prefer ``OUT.safetensors`` when sharing the weights: it holds tensors only and cannot run
code (``safetensors.torch.load_file``). ``CKPT`` itself is read weights-only
(:mod:`densekd.utils.checkpoint`); ``--trust-checkpoint`` allows a full pickle.
"""
import argparse
import os
import os.path as osp
import sys

#: The networks a densekd checkpoint holds, by ``--net`` name.
NETWORKS = ('student', 'teacher', 'segmentor')


def default_net(checkpoint: dict) -> str:
    """``'segmentor'`` for a teacher training run's checkpoint, else ``'student'``."""
    state = checkpoint.get('state_dict', checkpoint)
    return 'segmentor' if any(k.startswith('segmentor.') for k in state) else 'student'


def extract_network(checkpoint: dict, prefix: str = 'student.') -> dict:
    """The ``prefix`` sub-dict of a densekd checkpoint's state dict, with the prefix removed."""
    state = checkpoint.get('state_dict', checkpoint)
    network = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if not network:
        prefixes = sorted({k.split('.', 1)[0] for k in state})
        raise ValueError(f'no "{prefix}*" weights in the checkpoint; its top-level prefixes are '
                         f'{prefixes} (choose one with --net {"|".join(NETWORKS)} or --prefix)')
    return {k: v.detach().cpu().contiguous() for k, v in network.items()}


def saved_config(checkpoint: dict):
    """The training config saved in a densekd checkpoint's meta, or None."""
    cfg_text = checkpoint.get('meta', {}).get('cfg')
    if not cfg_text:
        return None
    from mmengine.config import Config
    return Config.fromstring(cfg_text, '.py')


def smp_arguments(checkpoint: dict, prefix: str) -> dict:
    """smp constructor arguments of the exported network, read from the saved config.

    A network of another registered type (e.g. ``TorchvisionSegmentor``, whose export is a
    torchvision state dict) keeps its ``type``, so the JSON never passes for smp arguments.
    """
    cfg = saved_config(checkpoint)
    if cfg is None:
        return {}
    model_cfg = dict(cfg.model.get(prefix.rstrip('.'), {}))
    drop = ('type', 'checkpoint') if model_cfg.get('type', 'SmpSegmentor') == 'SmpSegmentor' \
        else ('checkpoint',)
    return {k: v for k, v in model_cfg.items() if k not in drop}


def export_smp_dir(checkpoint: dict, state: dict, prefix: str, out_dir: str, source: str) -> str:
    """Build the network from the saved config, load ``state`` and write the smp export."""
    from densekd.models.segmentors import build_segmentor, load_state
    from densekd.models.smp_export import inference_metadata, save_smp_export
    cfg, arguments = saved_config(checkpoint), smp_arguments(checkpoint, prefix)
    if cfg is None or 'arch' not in arguments:
        raise SystemExit(f'--smp-dir: {source} holds no densekd training config naming the '
                         f'"{prefix.rstrip(".")}" architecture (a plain state dict cannot be '
                         f'exported in smp format; export a training checkpoint)')
    if 'type' in arguments:
        raise SystemExit(f'--smp-dir: the "{prefix.rstrip(".")}" network of {source} is a '
                         f'{arguments["type"]}, not an smp model; export its state dict instead')
    model = load_state(build_segmentor(**arguments), state, source)
    return save_smp_export(model, out_dir, **inference_metadata(cfg, arguments['classes']))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('out', nargs='?', help='state-dict output path; .pth, .safetensors and '
                        '.json are written')
    parser.add_argument('--smp-dir', help='also (or only) write this folder in smp\'s own format '
                        '(smp.from_pretrained) with the inference metadata')
    parser.add_argument('--net', choices=NETWORKS,
                        help='network to export (default: segmentor if the checkpoint has one, '
                        'else student)')
    parser.add_argument('--prefix', help='state-dict prefix to export instead of --net\'s, e.g. '
                        'generator.')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow a checkpoint that is a full pickle (can run arbitrary '
                        'code: only for files you trust); default: weights-only loading')
    args = parser.parse_args(argv)
    if not args.out and not args.smp_dir:
        parser.error('give an output path OUT.pth, --smp-dir DIR, or both')
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    from densekd.utils.checkpoint import load_checkpoint, trusted_checkpoints
    with trusted_checkpoints(args.trust_checkpoint):
        checkpoint = load_checkpoint(args.checkpoint, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise SystemExit(f'checkpoint {args.checkpoint} holds a {type(checkpoint).__name__}, '
                         f'expected a densekd checkpoint or a state dict')
    prefix = args.prefix or f'{args.net or default_net(checkpoint)}.'
    state = extract_network(checkpoint, prefix)
    if args.smp_dir:
        out_dir = export_smp_dir(checkpoint, state, prefix, args.smp_dir, args.checkpoint)
        print(f'wrote {out_dir} (smp.from_pretrained; densekd.json: normalisation, classes)')
    if args.out:
        write_state_dict(state, args.out, smp_arguments(checkpoint, prefix))


def write_state_dict(state: dict, out: str, arguments: dict) -> None:
    """``OUT.pth``, ``OUT.safetensors`` and, when known, ``OUT.json`` (constructor args)."""
    from densekd.utils.atomic import atomic_open, save_torch_atomic, write_json_atomic
    stem = osp.splitext(out)[0]
    os.makedirs(osp.dirname(osp.abspath(stem)), exist_ok=True)
    # Each file is written atomically: an interrupted export leaves no truncated weights.
    save_torch_atomic(state, stem + '.pth')
    from safetensors.torch import save as safetensors_bytes
    with atomic_open(stem + '.safetensors') as f:
        f.write(safetensors_bytes(state))
    if arguments:
        write_json_atomic(stem + '.json', arguments, indent=2)
    print(f'wrote {stem}.pth and {stem}.safetensors ({len(state)} tensors, '
          f'{sum(v.numel() for v in state.values()) / 1e6:.2f} M parameters)')


if __name__ == '__main__':
    main()
