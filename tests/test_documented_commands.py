"""Every command the README and the tools' help texts show names things that exist.

Commands are the ``python tools/X.py ...`` and ``make X`` lines of the README's code blocks and
inline code, and the ``python tools/X.py ...`` lines in each tool's docstring and argparse
texts. For each: the tool exists, every ``--flag`` is one the tool defines, and every
repository path it names (configs, docs, datasets, tools, densekd) is on disk. Placeholders in
capitals (``CONFIG``, ``CKPT``), and run outputs (``work_dirs/``,
``data/``) are not paths to check.
"""
import glob
import os.path as osp
import re
import shlex

import pytest

from tests.helpers import ROOT

#: Folders of the repository whose paths a command may name as inputs.
CHECKED_DIRS = ('configs/', 'docs/', 'datasets/', 'tools/', 'densekd/')
_TOOL = re.compile(r'python (tools/[\w]+\.py)((?:[^\n`]|\\\n)*)')
_MAKE = re.compile(r'(?:^|`)make ([a-z][\w-]*)', re.M)


def _readme() -> str:
    with open(osp.join(ROOT, 'README.md')) as f:
        return f.read()


def _tool_texts() -> dict:
    texts = {}
    for path in sorted(glob.glob(osp.join(ROOT, 'tools', '*.py'))):
        with open(path) as f:
            texts[osp.relpath(path, ROOT)] = f.read()
    return texts


def commands(text: str):
    """``(tool, argument string)`` of each ``python tools/X.py`` command in ``text``."""
    for match in _TOOL.finditer(text.replace('\\\n', ' ')):
        args = re.split(r'\s+#|`|\)\s*$|"""|\'\'\'', match.group(2))[0]
        yield match.group(1), args


def _tokens(args: str):
    args = re.sub(r'[\[\]|]', ' ', args)  # optional parts and alternatives: check them too
    try:
        return shlex.split(args)
    except ValueError:  # an unbalanced quote in prose: split on spaces
        return args.split()


def problems(tool: str, args: str, sources: dict) -> list:
    """What is wrong with one command: a missing tool, an unknown flag, a missing path."""
    if tool not in sources:
        return [f'{tool} does not exist']
    found = []
    source = sources[tool]
    for token in _tokens(args):
        if token.startswith('--'):
            flag = token.split('=')[0]
            if f"'{flag}'" not in source:
                found.append(f'{tool} has no flag {flag}')
        elif token.startswith(CHECKED_DIRS) and not any(c in token for c in '*?…<>'):
            if '...' not in token and not osp.exists(osp.join(ROOT, token)):
                found.append(f'{tool}: {token} does not exist')
    return found


def test_readme_commands_name_existing_tools_flags_and_files():
    readme, sources = _readme(), _tool_texts()
    found = list(commands(readme))
    assert len(found) >= 10, 'the README shows the tools: the extraction found too few commands'
    errors = [p for tool, args in found for p in problems(tool, args, sources)]
    assert not errors, '\n'.join(errors)


def test_readme_make_targets_exist():
    with open(osp.join(ROOT, 'Makefile')) as f:
        targets = set(re.findall(r'^([a-z][\w-]*):', f.read(), re.M))
    named = set(_MAKE.findall(_readme()))
    assert {'demo', 'test'} <= named
    assert named <= targets, f'README names make targets that do not exist: {named - targets}'


@pytest.mark.parametrize('tool', sorted(_tool_texts()))
def test_help_text_commands_name_existing_tools_flags_and_files(tool):
    sources = _tool_texts()
    errors = [p for name, args in commands(sources[tool]) for p in problems(name, args, sources)]
    assert not errors, '\n'.join(errors)


def test_the_checker_catches_what_it_should():
    sources = _tool_texts()
    text = ('python tools/train.py configs/nope.py --wrok-dir x\n'
            'python tools/nothere.py CONFIG\n')
    errors = [p for tool, args in commands(text) for p in problems(tool, args, sources)]
    assert sorted(errors) == ['tools/nothere.py does not exist',
                              'tools/train.py has no flag --wrok-dir',
                              'tools/train.py: configs/nope.py does not exist']
