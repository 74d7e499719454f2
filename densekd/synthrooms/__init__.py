"""SynthRooms: procedurally rendered NYUv2-like indoor scenes, the offline in-domain data.

Every image is a box room seen by a pinhole camera (random position, yaw, pitch, small roll).
Furniture and clutter are unions of boxes, ellipsoids and vertical cylinders, ray-cast against
the camera rays with a z-buffer, so perspective and occlusion are exact and every pixel's class
is known. Shading is deferred: after visibility is resolved each material textures its own
pixels (floor planks/tiles in floor coordinates, paint, fabric, wood grain, book spines, window
skies, paintings, screens), then one lighting pass adds a warm key light with falloff, window
light, hemisphere ambient, contact shadows (distance-to-box occlusion) and room-corner occlusion,
and a camera model adds exposure, colour cast, gamma, vignetting, blur and sensor noise.

Colours are drawn from palettes *shared* across classes (a sofa, a bed cover and a wall can have
the same colour), so a network has to tell classes apart by shape and context, as on NYUv2.

Modules, in pipeline order:

* :mod:`.palettes` -- label ids, colour palettes and their per-class mixtures;
* :mod:`.scene` -- the scene container and its buffered random stream;
* :mod:`.content` -- window views and paintings;
* :mod:`.objects`, :mod:`.clutter` -- furniture and small-object builders;
* :mod:`.placement`, :mod:`.fixtures` -- free floor / wall space, wall and ceiling fixtures;
* :mod:`.camera` -- aiming the camera, its basis, projecting boxes;
* :mod:`.layout` -- :func:`~.layout.build_scene`, the whole room step by step;
* :mod:`.raycast` -- intersections and the G-buffer;
* :mod:`.materials`, :mod:`.lighting` -- textures, then lighting and the camera response;
* :mod:`.render` -- :func:`render_synthroom`, one sample;
* :mod:`.writer`, :mod:`.cache` -- datasets on disk, generated once on demand.

The registered dataset is :class:`densekd.datasets.synthrooms.SynthRoomsDataset`.
"""
from .cache import ensure_synthrooms, synthrooms_root
from .palettes import (BED, BOOKS, CEILING, CHAIR, FLOOR, FURN, NUM_CLASSES, OBJ, PICT, SOFA,
                       TABLE, TV, VOID, WALL, WINDOW)
from .render import SYNTHROOMS_VERSION, render_synthroom
from .writer import MANIFEST_NAME, generate_synthrooms, load_manifest

__all__ = ['SYNTHROOMS_VERSION', 'MANIFEST_NAME', 'NUM_CLASSES', 'VOID', 'BED', 'BOOKS',
           'CEILING', 'CHAIR', 'FLOOR', 'FURN', 'OBJ', 'PICT', 'SOFA', 'TABLE', 'TV', 'WALL',
           'WINDOW', 'render_synthroom', 'generate_synthrooms', 'load_manifest',
           'ensure_synthrooms', 'synthrooms_root']
