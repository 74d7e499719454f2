"""Helpers shared by the tests: tiny model and data configs, running the real tools in-process.

Fixtures live in ``conftest.py``; everything a test module imports by name lives here
(``from tests.helpers import ...``), since conftest modules are not meant to be imported.
"""
import glob
import importlib.util
import itertools
import json
import os.path as osp
import textwrap

import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# ~1 M-parameter smp models that build offline (timm's test_resnet).
TINY_SEGMENTOR = dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='tu-test_resnet',
                      classes=13, encoder_weights=None, decoder_channels=32,
                      decoder_atrous_rates=(1, 2, 3))
# The same model as keyword arguments of densekd.models.build_segmentor (no registry type).
TINY_SEGMENTOR_ARGS = {k: v for k, v in TINY_SEGMENTOR.items() if k != 'type'}
TINY_SYNTHROOMS = dict(num_train=64, num_test=16, height=64, width=64, seed=0)
_counter = itertools.count()


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools are scripts, not a package).

    Args:
        name: the script's file name without ``.py``, e.g. ``'train'``.

    Returns:
        The freshly executed module.
    """
    spec = importlib.util.spec_from_file_location(f'densekd_tool_{name}',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(tmp_path, base: str, body: str) -> str:
    """Write a config in ``tmp_path`` inheriting ``configs/<base>`` with ``body`` appended.

    Args:
        tmp_path: directory to write into.
        base: config path relative to ``configs/``.
        body: Python config lines (dedented before writing).

    Returns:
        Path of the new config file (a fresh name on every call).
    """
    path = osp.join(str(tmp_path), f'cfg_{next(_counter)}.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{osp.join(ROOT, 'configs', base)!r}]\n")
        f.write(textwrap.dedent(body))
    return path


def tiny_data_body(data_root: str, crop=(64, 64), batch_size=8) -> str:
    """Config lines pointing the SynthRooms loaders at a tiny dataset (no worker processes).

    Args:
        data_root: where the tiny SynthRooms dataset was generated.
        crop: training crop size (H, W).
        batch_size: training batch size.

    Returns:
        Config text to append to a config body.
    """
    return textwrap.dedent(f"""
        _tiny = dict(data_root={data_root!r}, **{TINY_SYNTHROOMS!r})
        train_dataloader = dict(batch_size={batch_size}, num_workers=0, persistent_workers=False,
            dataset=dict(pipeline=[
                dict(type='RandomResizedCrop', size={crop!r}, scale=(0.5, 1.0)),
                dict(type='HorizontalFlip', p=0.5),
                dict(type='Normalize', mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))],
                **_tiny))
        val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                              dataset=dict(**_tiny))
        test_dataloader = val_dataloader
    """)


def last_metrics(work_dir: str) -> dict:
    """The last row with validation metrics in a run's ``scalars.json``.

    Args:
        work_dir: the run's work dir (holding ``<timestamp>/vis_data/scalars.json``).

    Returns:
        The logged row, e.g. with ``mIoU``.
    """
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if 'mIoU' in line]
    assert rows, f'no validation metrics logged in {work_dir}'
    return rows[-1]


def evaluate(model, dataset, num_classes: int = 13) -> float:
    """mIoU of ``model`` on ``dataset``, computed outside the Runner.

    Args:
        model: a segmentor returning logits at input resolution (put in eval mode).
        dataset: items with ``inputs`` (3×H×W) and ``seg`` (H×W).
        num_classes: number of classes of the confusion matrix.

    Returns:
        mIoU in percent.
    """
    from densekd.evaluation.iou_metric import confusion_matrix, confusion_to_metrics
    model.eval()
    conf = torch.zeros(num_classes, num_classes, dtype=torch.long)
    with torch.no_grad():
        for i in range(len(dataset)):
            item = dataset[i]
            pred = model(item['inputs'][None]).argmax(1)[0]
            conf += confusion_matrix(pred, item['seg'], num_classes)
    return confusion_to_metrics(conf)['mIoU']


def write_tiny_segmentor(tmp_path, seed: int = 0, name: str = 'teacher', **overrides) -> str:
    """Export a randomly initialised tiny segmentor the way a trained teacher is exported.

    The weights go into an mmengine-style training checkpoint (``segmentor.*`` keys, as a
    ``Supervised`` run saves them) and through ``tools/export_weights.py``, so tests load
    exactly the file format a real teacher has, without training one.

    Args:
        tmp_path: directory to write into.
        seed: torch seed of the initialisation (other seeds give other weights).
        name: file stem of the exported weights.
        **overrides: changes to :data:`TINY_SEGMENTOR_ARGS` (e.g. ``classes=40``).

    Returns:
        Path of the exported ``<name>.pth`` (a ``<name>.safetensors`` sits next to it).
    """
    from densekd.models import build_segmentor
    torch.manual_seed(seed)
    model = build_segmentor(**{**TINY_SEGMENTOR_ARGS, **overrides})
    checkpoint = osp.join(str(tmp_path), f'{name}_train.pth')
    torch.save({'state_dict': {f'segmentor.{k}': v for k, v in model.state_dict().items()},
                'meta': {}}, checkpoint)
    out = osp.join(str(tmp_path), f'{name}.pth')
    load_tool('export_weights').main([checkpoint, out])  # the default: the segmentor
    return out


# A narrower tiny model (decoder 16 channels) for the algorithm unit tests.
TINY_ALGO_ARGS = dict(TINY_SEGMENTOR_ARGS, decoder_channels=16)


def save_tiny_state_dict(directory, seed: int = 0) -> str:
    """A plain state dict of :data:`TINY_ALGO_ARGS` at ``<directory>/teacher.pth`` (seeded)."""
    from densekd.models import build_segmentor
    torch.manual_seed(seed)
    path = osp.join(str(directory), 'teacher.pth')
    torch.save(build_segmentor(**TINY_ALGO_ARGS).state_dict(), path)
    return path


def counting_optimizers(model, names, lr: float = 1e-3):
    """Adam for each named submodule of ``model`` (``SubmoduleOptimConstructor``), counted.

    Returns:
        ``(optim_wrapper, order)``: the wrapper dict, and the list every optimizer step appends
        its submodule's name to (the update order a ``train_step`` ran).
    """
    from densekd.engine import SubmoduleOptimConstructor
    optim = SubmoduleOptimConstructor(
        {n: dict(optimizer=dict(type='Adam', lr=lr)) for n in names})(model)
    order = []
    for name in names:
        opt = optim[name].optimizer
        step = opt.step

        def counted(*a, _name=name, _step=step, **k):
            order.append(_name)
            return _step(*a, **k)
        opt.step = counted
    return optim, order


def photos_loader_body(batch_size: int, num_samples: int) -> str:
    """Config lines: the train loader on 64×64 crops of the bundled photos (no workers)."""
    return textwrap.dedent(f"""
        train_dataloader = dict(batch_size={batch_size}, num_workers=0, persistent_workers=False,
            dataset=dict(_delete_=True, type='BundledPhotosDataset', num_samples={num_samples},
                         crop_size=(64, 64), seed=0,
                         pipeline=[dict(type='Normalize', mean=(0.485, 0.456, 0.406),
                                        std=(0.229, 0.224, 0.225))]))
    """)


#: Config lines: the data-free regimes' placeholder train loader.
NO_DATA_BODY = textwrap.dedent("""
    train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                            dataset=dict(_delete_=True, type='NoDataDataset'))
""")
