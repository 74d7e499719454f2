"""Config loading shared by the tools: check the keys, merge CLI overrides, resolve the work
dir, check the input normalisation, AMP."""
from __future__ import annotations

import difflib
import inspect
import os.path as osp
from typing import Iterable, Iterator, List, Mapping, Optional

from mmengine.config import Config
from mmengine.runner import Runner

from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD, check_data_norm
from densekd.utils.ood_root import apply_ood_root

#: The top-level keys mmengine's ``Runner.from_cfg`` reads (its constructor's arguments).
RUNNER_KEYS = frozenset(name for name in inspect.signature(Runner.__init__).parameters
                        if name not in ('self', 'cfg'))
#: Other top-level keys with a meaning: mmengine ``Config``'s own, and densekd's ``ood_root``
#: (read by :func:`load_config` after the overrides, so ``--cfg-options ood_root=DIR`` works).
CONFIG_KEYS = frozenset({'custom_imports', 'ood_root'})
#: How close (``difflib`` ratio) a top-level name may come to a runner key before it counts as
#: a typo of it ("modle" vs "model": 0.8); the shipped configs' variables stay below 0.7.
TYPO_RATIO = 0.75


class ConfigKeyError(ValueError):
    """A config or ``--cfg-options`` key that would be silently ignored, or leads nowhere."""


def _closest(key: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    match = difflib.get_close_matches(key, sorted(set(candidates)), n=1, cutoff=cutoff)
    return f'; did you mean {match[0]!r}?' if match else ''


def check_top_level_keys(cfg: Config, path: str) -> None:
    """Refuse top-level names that look like a misspelt runner key (``modle = dict(...)``).

    Configs also define variables for their own use (``max_iters = 400``, ``data_norm``,
    ``ood_dataset``, ``tier_*``), which the runner ignores; such a name is accepted unless it
    is within :data:`TYPO_RATIO` of a key of :data:`RUNNER_KEYS`. Names starting with ``_``
    are never checked.

    Raises:
        ConfigKeyError: names the key, the file and the runner key it resembles.
    """
    for key in cfg.keys():
        if key.startswith('_') or key in RUNNER_KEYS or key in CONFIG_KEYS:
            continue
        match = difflib.get_close_matches(key, sorted(RUNNER_KEYS), n=1, cutoff=TYPO_RATIO)
        if match:
            raise ConfigKeyError(
                f'{path}: top-level key {key!r} is not a runner setting and would be ignored; '
                f'did you mean {match[0]!r}? (a variable of the file must not resemble a '
                f'runner setting: rename it or start it with "_")')


def _paths_to(node, name: str, prefix: str) -> Iterator[str]:
    """Dotted paths of the keys called ``name`` inside ``node``."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            path = f'{prefix}.{key}'
            if key == name:
                yield path
            yield from _paths_to(value, name, path)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _paths_to(value, name, f'{prefix}.{i}')


def check_cfg_options(cfg: Config, options: Mapping) -> None:
    """Refuse ``--cfg-options`` keys that would change nothing or lead nowhere.

    * The top-level key must be a runner setting (:data:`RUNNER_KEYS`) or mmengine's. A
      variable of the config file (``max_iters``, ``data_root``) was substituted where the file
      uses it when it was parsed, so overriding it would do nothing; the error names the
      settings that hold a key of that name (``train_cfg.max_iters``).
    * Every key on the path except the last must exist in the loaded config (a new last key
      adds an argument); an index into a list must be in range.

    Raises:
        ConfigKeyError: names the option, the missing key and its closest valid sibling.
    """
    for option in options:
        parts = option.split('.')
        top = parts[0]
        if top not in RUNNER_KEYS and top not in CONFIG_KEYS:
            if top in cfg:
                uses: List[str] = []
                for key in sorted(RUNNER_KEYS & set(cfg.keys())):
                    uses += _paths_to(cfg[key], parts[-1], key)
                hint = (f'; override the setting that uses it, e.g. {", ".join(uses[:3])}'
                        if uses else '; override the settings that use it instead')
                raise ConfigKeyError(
                    f'--cfg-options {option}: {top!r} is a variable of the config file, '
                    f'already substituted where the file uses it, so overriding it would change '
                    f'nothing{hint}')
            raise ConfigKeyError(
                f'--cfg-options {option}: {top!r} is neither a key of the config nor a runner '
                f'setting{_closest(top, RUNNER_KEYS | set(cfg.keys()))}')
        if top not in cfg:
            continue  # a runner setting the config leaves at its default (experiment_name)
        node = cfg[top]
        for depth, part in enumerate(parts[1:], start=1):
            parent, last = '.'.join(parts[:depth]), depth == len(parts) - 1
            if isinstance(node, Mapping):
                if part not in node:
                    if last:
                        break  # a new argument
                    raise ConfigKeyError(
                        f'--cfg-options {option}: {parent} has no key {part!r}'
                        f'{_closest(part, node.keys())} (keys: {", ".join(map(str, node))})')
                node = node[part]
            elif isinstance(node, (list, tuple)):
                if not (part.isdigit() and int(part) < len(node)):
                    raise ConfigKeyError(f'--cfg-options {option}: {parent} is a list of '
                                         f'{len(node)}; {part!r} is not an index into it')
                node = node[int(part)]
            else:
                raise ConfigKeyError(f'--cfg-options {option}: {parent} is {node!r}, not a '
                                     f'dict, so it has no key {part!r}')


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """Load ``path``, check its keys, apply ``--cfg-options`` and set ``work_dir``.

    Keys that would be silently ignored are errors: a top-level name resembling a runner
    setting (:func:`check_top_level_keys`) and an override that changes nothing or goes
    through a key the config does not have (:func:`check_cfg_options`).

    A set ``ood_root`` points every OOD image pool at that folder
XX
    ``work_dirs/<config file stem>``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ConfigKeyError: a misspelt top-level key or a ``--cfg-options`` key leading nowhere.
        ValueError: a pipeline's ``Normalize`` disagrees with the model's ``data_norm``
            (:func:`~densekd.utils.normalization.check_data_norm`).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    check_top_level_keys(cfg, path)
    if cfg_options:
        check_cfg_options(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    apply_ood_root(cfg)
    model = cfg.get('model') or {}
    is_distiller = 'teacher' in model and 'student' in model  # defaults to ImageNet statistics
    check_data_norm(cfg, default=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD) if is_distiller
                    else None)
    return cfg


def apply_amp(cfg: Config) -> None:
    """Switch every optimizer wrapper (one or one per submodule) to ``AmpOptimWrapper``."""
    optim = cfg.optim_wrapper
    wrappers = ([optim] if 'optimizer' in optim else
                [v for k, v in optim.items() if k != 'constructor' and isinstance(v, dict)])
    for wrapper in wrappers:
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
