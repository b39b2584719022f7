"""Wall fixtures: door, window with curtains, picture.

Builders return ``Part`` lists in the bundle frame of ``parts.py`` with the origin ON the wall's inner surface
(the wall fills y < 0, the room y > 0); z is the height above the floor in metres. Doors, windows and pictures
are nearly flush with their wall (5-10 mm proud, panels half sunk into it), as in real rooms: the mesh drops the
wall surface behind them and welds their rims to it, so their faces continue the wall's plane.
"""
from .palettes import pick_color, random_color
from .parts import box, shade_color


def door(rng):
    """Panel (0.8-0.95 x 2.0-2.1 m), casing and handle."""
    width, height = rng.uniform(0.8, 0.95), rng.uniform(2.0, 2.1)
    color = pick_color(rng, 'door')
    casing_color = pick_color(rng, 'white') if rng.random() < 0.6 else shade_color(color, 0.85)
    casing = rng.uniform(0.05, 0.08)
    handle_x = (width / 2 - 0.08) * rng.choice([-1, 1])
    return [box(0, 0, 0, width, 0.01, height, color, 'door'),
            box(-(width + casing) / 2, 0, 0, casing, 0.02, height + casing, casing_color, 'door'),
            box((width + casing) / 2, 0, 0, casing, 0.02, height + casing, casing_color, 'door'),
            box(0, 0, height, width, 0.02, casing, casing_color, 'door'),
            box(handle_x, 0.045, 0.98, 0.12, 0.04, 0.03, pick_color(rng, 'metal'), 'door')]


def window(rng, wall_height, small=False):
    """Glass pane with frame, optional mullion and sill (group 0) plus curtains (groups 1, 2)."""
    width = rng.uniform(0.5, 0.8) if small else rng.uniform(0.8, 1.8)
    sill_z = rng.uniform(1.0, 1.3) if small else rng.uniform(0.75, 1.0)
    height = min(rng.uniform(0.6, 1.0) if small else rng.uniform(1.0, 1.5), wall_height - sill_z - 0.25)
    frame = rng.uniform(0.04, 0.07)
    frame_color = pick_color(rng, 'white' if rng.random() < 0.7 else 'dark')
    parts = [box(0, 0, sill_z, width, 0.01, height, pick_color(rng, 'glass'), 'window'),
             box(0, 0, sill_z, width, 0.02, frame, frame_color, 'window'),
             box(0, 0, sill_z + height - frame, width, 0.02, frame, frame_color, 'window'),
             box(-(width - frame) / 2, 0, sill_z, frame, 0.02, height, frame_color, 'window'),
             box((width - frame) / 2, 0, sill_z, frame, 0.02, height, frame_color, 'window'),
             box(0, 0.0, sill_z - 0.03, width + 0.1, rng.uniform(0.16, 0.26), 0.03, frame_color, 'window')]
    if width > 1.0 and rng.random() < 0.5:
        parts.append(box(0, 0, sill_z, frame * 0.8, 0.02, height, frame_color, 'window'))
    return parts + _curtains(rng, width, sill_z, height, wall_height)


def _curtains(rng, window_width, sill_z, window_height, wall_height):
    """Two open panels beside the window or one panel drawn across part of it, floor-length or sill-length."""
    color = pick_color(rng, 'curtain')
    top = min(sill_z + window_height + rng.uniform(0.1, 0.3), wall_height - 0.05)
    bottom = 0.02 if rng.random() < 0.5 else sill_z - rng.uniform(0.1, 0.2)
    offset, thickness = rng.uniform(0.17, 0.22), rng.uniform(0.03, 0.05)
    if rng.random() < 0.7:
        panel = rng.uniform(0.25, 0.5)
        overlap = rng.uniform(0.0, 0.1)
        return [box(side * (window_width / 2 + panel / 2 - overlap), offset, bottom, panel, thickness, top - bottom,
                    color, 'curtain', group)
                for group, side in ((1, -1), (2, 1))]
    panel = rng.uniform(0.4, 0.7) * window_width
    side = rng.choice([-1, 1])
    return [box(side * (window_width / 2 - panel / 2 + 0.1), offset, bottom, panel + 0.2, thickness, top - bottom,
                color, 'curtain', 1)]


def picture(rng):
    """Frame with a painted canvas of 1-3 colour blocks; 0.3-1.0 x 0.3-0.8 m, centred 1.3-1.7 m high."""
    width, height = rng.uniform(0.3, 1.0), rng.uniform(0.3, 0.8)
    bottom = max(rng.uniform(1.3, 1.7) - height / 2, 0.9)
    border, depth = rng.uniform(0.02, 0.06), rng.uniform(0.005, 0.01)
    canvas_width, canvas_height = width - 2 * border, height - 2 * border
    parts = [box(0, depth / 2, bottom, width, depth, height, pick_color(rng, 'picture frame'), 'picture'),
             box(0, depth / 2 + 0.002, bottom + border, canvas_width, depth, canvas_height, random_color(rng),
                 'picture')]
    for _ in range(rng.integers(1, 4)):
        block_width, block_height = canvas_width * rng.uniform(0.2, 0.6), canvas_height * rng.uniform(0.2, 0.6)
        x = rng.uniform(-1, 1) * (canvas_width - block_width) / 2
        z = bottom + border + rng.uniform(0, canvas_height - block_height)
        parts.append(box(x, depth / 2 + 0.004, z, block_width, depth, block_height, random_color(rng), 'picture'))
    return parts
