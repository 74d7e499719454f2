"""Export one network of a densekd checkpoint as a plain smp state dict.

``python tools/export_weights.py CKPT OUT.pth [--net student|teacher|segmentor]`` writes
``OUT.pth`` (torch state dict) and ``OUT.safetensors``, holding only that network's weights (no
other network, generator or optimizer), plus ``OUT.json`` with the smp constructor arguments
when the checkpoint's config names them. ``--net`` picks the network: ``student`` or
``teacher`` of a distillation run, ``segmentor`` of a teacher training run (``configs/teacher``);
by default the segmentor when the checkpoint has one, else the student. Load it without
densekd::

    import segmentation_models_pytorch as smp, torch
    model = smp.DeepLabV3Plus(encoder_name='mobilenet_v2', encoder_weights=None, classes=13)
    model.load_state_dict(torch.load('OUT.pth'))  # weights_only=True (torch's default)

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


def smp_arguments(checkpoint: dict, prefix: str) -> dict:
    """smp constructor arguments of the exported network, read from the saved config."""
    cfg_text = checkpoint.get('meta', {}).get('cfg')
    if not cfg_text:
        return {}
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    from mmengine.config import Config
    cfg = Config.fromstring(cfg_text, '.py')
    model_cfg = cfg.model.get(prefix.rstrip('.'), {})
    return {k: v for k, v in dict(model_cfg).items() if k not in ('type', 'checkpoint')}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint')
    parser.add_argument('out', help='output path; .pth and .safetensors are written')
    parser.add_argument('--net', choices=NETWORKS,
                        help='network to export (default: segmentor if the checkpoint has one, '
                        'else student)')
    parser.add_argument('--prefix', help='state-dict prefix to export instead of --net\'s, e.g. '
                        'generator.')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow a checkpoint that is a full pickle (can run arbitrary '
                        'code: only for files you trust); default: weights-only loading')
    args = parser.parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
    from densekd.utils.atomic import atomic_open, save_torch_atomic, write_json_atomic
    from densekd.utils.checkpoint import load_checkpoint, trusted_checkpoints
    with trusted_checkpoints(args.trust_checkpoint):
        checkpoint = load_checkpoint(args.checkpoint, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise SystemExit(f'checkpoint {args.checkpoint} holds a {type(checkpoint).__name__}, '
                         f'expected a densekd checkpoint or a state dict')
    prefix = args.prefix or f'{args.net or default_net(checkpoint)}.'
    state = extract_network(checkpoint, prefix)
    stem = osp.splitext(args.out)[0]
    os.makedirs(osp.dirname(osp.abspath(stem)), exist_ok=True)
    # Each file is written atomically: an interrupted export leaves no truncated weights.
    save_torch_atomic(state, stem + '.pth')
    from safetensors.torch import save as safetensors_bytes
    with atomic_open(stem + '.safetensors') as f:
        f.write(safetensors_bytes(state))
    arguments = smp_arguments(checkpoint, prefix)
    if arguments:
        write_json_atomic(stem + '.json', arguments, indent=2)
    print(f'wrote {stem}.pth and {stem}.safetensors ({len(state)} tensors, '
          f'{sum(v.numel() for v in state.values()) / 1e6:.2f} M parameters)')


if __name__ == '__main__':
    main()
