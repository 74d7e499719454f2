"""Install densekd: ``pip install -e .`` (the Makefile does this inside ``.venv``)."""
from setuptools import find_packages, setup

setup(
    name='densekd',
    version='0.1.0',
    description='Knowledge distillation for semantic segmentation without the teacher\'s data '
    '(OOD, data-free, MosaicKD).',
    python_requires='>=3.10',
    packages=find_packages(include=['densekd', 'densekd.*']),
    install_requires=[
        'torch>=2.1',
        'torchvision',
        'segmentation-models-pytorch==0.6.0',
        'timm>=1.0.12',
        'mmengine==0.10.7',
        'albumentations==2.0.8',
        'opencv-python-headless',
        'pillow',  # image header and truncation checks (densekd/datasets/checks.py)
        'numpy',
        'scipy',
        'h5py',
        'scikit-image',
        'scikit-learn',
        'safetensors',
        'matplotlib',  # benchmark figures
        'setuptools',  # mmengine 0.10.7 imports distutils (gone in Python 3.12)
    ],
    extras_require={'tests': ['pytest', 'ruff'], 'tensorboard': ['tensorboard']},
)
