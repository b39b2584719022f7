"""Floor-standing furniture built from boxes, with random dimensions (metres) and colours.

Every builder takes a numpy Generator and returns a list of ``Part`` in the bundle frame of ``parts.py``:
origin at the footprint centre on the floor, the front facing +y, the back at the most negative y.
"""
import numpy as np

from .palettes import pick_color
from .parts import box, move, shade_color

LEG_PALETTES = ('same', 'dark', 'metal')


def _legs(rng, base_color):
    """Colour of legs/trim: the body colour darkened, a dark colour or metal -> (3,) uint8."""
    choice = LEG_PALETTES[rng.integers(len(LEG_PALETTES))]
    return shade_color(base_color, 0.75) if choice == 'same' else pick_color(rng, choice)


def _four_legs(width, depth, height, thickness, inset, color, class_name, group=0):
    """Four square legs from the floor to ``height`` at the corners of a width x depth rectangle."""
    offset_x, offset_y = width / 2 - inset - thickness / 2, depth / 2 - inset - thickness / 2
    return [box(sx * offset_x, sy * offset_y, 0.0, thickness, thickness, height, color, class_name, group)
            for sx in (-1, 1) for sy in (-1, 1)]


def chair(rng, group=0):
    """Seat, backrest and either four legs or an office-chair pedestal; ~0.45 x 0.45 x 0.85 m."""
    width, depth = rng.uniform(0.42, 0.52), rng.uniform(0.42, 0.52)
    seat_top, seat_thickness = rng.uniform(0.42, 0.48), rng.uniform(0.04, 0.07)
    back_height, back_thickness = rng.uniform(0.35, 0.5), rng.uniform(0.04, 0.07)
    color = pick_color(rng, 'chair')
    legs = _legs(rng, color)
    seat_bottom = seat_top - seat_thickness
    parts = [box(0, 0, seat_bottom, width, depth, seat_thickness, color, 'chair', group),
             box(0, -depth / 2 + back_thickness / 2, seat_top, width, back_thickness, back_height, color, 'chair',
                 group)]
    if rng.random() < 0.3:  # office chair: column on a cross base
        parts += [box(0, 0, 0.06, 0.06, 0.06, seat_bottom - 0.06, legs, 'chair', group),
                  box(0, 0, 0.0, 0.56, 0.06, 0.06, legs, 'chair', group),
                  box(0, 0, 0.0, 0.06, 0.56, 0.06, legs, 'chair', group)]
    else:
        parts += _four_legs(width, depth, seat_bottom, rng.uniform(0.03, 0.045), 0.01, legs, 'chair', group)
    return parts


def table(rng, coffee=False):
    """Top on four legs: dining (0.72-0.77 m high) or coffee table (0.38-0.5 m)."""
    if coffee:
        width, depth, height = rng.uniform(0.8, 1.3), rng.uniform(0.45, 0.7), rng.uniform(0.38, 0.5)
    else:
        width, depth, height = rng.uniform(0.8, 1.8), rng.uniform(0.7, 1.0), rng.uniform(0.72, 0.77)
    top = rng.uniform(0.03, 0.05)
    color = pick_color(rng, 'table')
    legs = _four_legs(width, depth, height - top, rng.uniform(0.045, 0.07), rng.uniform(0.03, 0.08),
                      _legs(rng, color), 'table')
    return [box(0, 0, height - top, width, depth, top, color, 'table')] + legs


def table_with_chairs(rng):
    """A dining table with 2-4 chairs pulled up to its sides, each chair its own group."""
    parts = table(rng)
    width, depth = parts[0].size[:2]
    sides = rng.permutation([(0, -1), (0, 1), (-1, 0), (1, 0)])[:rng.integers(2, 5)]
    for group, (side_x, side_y) in enumerate(sides, start=1):
        gap = rng.uniform(0.05, 0.3)
        # A chair faces +y in its own frame; turn it towards the table centre, i.e. along (-side_x, -side_y).
        yaw = np.arctan2(side_x, -side_y) + rng.normal(0, 0.15)
        x = side_x * (width / 2 + gap + 0.25) + (rng.uniform(-0.2, 0.2) * width if side_x == 0 else 0)
        y = side_y * (depth / 2 + gap + 0.25) + (rng.uniform(-0.2, 0.2) * depth if side_y == 0 else 0)
        parts += move(chair(rng, group=0), x, y, yaw, group_offset=group)
    return parts


def desk(rng):
    """Desk top on side panels or legs, optional drawer block, and a chair in front (group 1)."""
    width, depth, height = rng.uniform(1.0, 1.6), rng.uniform(0.55, 0.8), rng.uniform(0.72, 0.76)
    top = rng.uniform(0.025, 0.04)
    color = pick_color(rng, 'desk')
    support = _legs(rng, color) if rng.random() < 0.5 else color
    parts = [box(0, 0, height - top, width, depth, top, color, 'desk')]
    if rng.random() < 0.5:
        panel = rng.uniform(0.02, 0.035)
        parts += [box(sx * (width / 2 - panel / 2), 0, 0, panel, depth, height - top, support, 'desk')
                  for sx in (-1, 1)]
    else:
        parts += _four_legs(width, depth, height - top, 0.045, 0.02, support, 'desk')
    if rng.random() < 0.4:
        block = rng.uniform(0.35, 0.45)
        side = rng.choice([-1, 1])
        parts.append(box(side * (width / 2 - block / 2 - 0.05), -0.02, 0, block, depth - 0.08, height - top - 0.02,
                         shade_color(color, rng.uniform(0.8, 1.1)), 'desk'))
    seat = chair(rng)
    parts += move(seat, rng.uniform(-0.25, 0.25) * width, depth / 2 + rng.uniform(0.1, 0.35),
                  np.pi + rng.normal(0, 0.25), group_offset=1)
    return parts


def bed(rng):
    """Frame, mattress, blanket, pillows and headboard (at -y); single or double."""
    width = rng.uniform(0.9, 1.05) if rng.random() < 0.35 else rng.uniform(1.4, 1.9)
    length, frame = rng.uniform(1.95, 2.15), rng.uniform(0.22, 0.35)
    mattress, head_thickness = rng.uniform(0.18, 0.28), rng.uniform(0.05, 0.09)
    frame_color = pick_color(rng, 'bed frame')
    sheet, blanket = pick_color(rng, 'bedding'), pick_color(rng, 'bedding')
    inner = length - head_thickness
    y_inner = -length / 2 + head_thickness + inner / 2
    mattress_top = frame + mattress
    parts = [box(0, y_inner, 0, width, inner, frame, frame_color, 'bed'),
             box(0, y_inner, frame, width - 0.04, inner - 0.04, mattress, sheet, 'bed'),
             box(0, -length / 2 + head_thickness / 2, 0, width, head_thickness, rng.uniform(0.8, 1.2), frame_color,
                 'bed'),
             box(0, length / 2 - inner * 0.33, mattress_top, width - 0.02, inner * 0.64, 0.04, blanket, 'bed')]
    pillows = 1 if width < 1.2 else 2
    pillow_width = (width - 0.1) / pillows - 0.05
    for i in range(pillows):
        x = -width / 2 + 0.05 + (i + 0.5) * (width - 0.1) / pillows
        parts.append(box(x, -length / 2 + head_thickness + 0.25, mattress_top, pillow_width, 0.36, 0.12,
                         shade_color(sheet, 0.95), 'bed'))
    return parts


def sofa(rng):
    """Base, seat cushions, backrest (at -y) and two arms; 1.5-2.4 m wide."""
    width, depth = rng.uniform(1.5, 2.4), rng.uniform(0.8, 1.0)
    seat_top, cushion = rng.uniform(0.4, 0.46), rng.uniform(0.1, 0.15)
    back_top, back_thickness = rng.uniform(0.75, 0.92), rng.uniform(0.15, 0.25)
    arm_width, arm_top = rng.uniform(0.1, 0.22), rng.uniform(0.55, 0.68)
    color = pick_color(rng, 'sofa')
    inner = width - 2 * arm_width
    seat_depth = depth - back_thickness
    parts = [box(0, 0, 0, inner, depth, seat_top - cushion, shade_color(color, 0.85), 'sofa'),
             box(0, -depth / 2 + back_thickness / 2, seat_top - cushion, inner, back_thickness,
                 back_top - seat_top + cushion, color, 'sofa')]
    parts += [box(sx * (width / 2 - arm_width / 2), 0, 0, arm_width, depth, arm_top, color, 'sofa') for sx in (-1, 1)]
    cushions = rng.integers(2, 4)
    cushion_width = inner / cushions
    for i in range(cushions):
        parts.append(box(-inner / 2 + (i + 0.5) * cushion_width, depth / 2 - seat_depth / 2, seat_top - cushion,
                         cushion_width - 0.015, seat_depth - 0.01, cushion, shade_color(color, rng.uniform(0.95, 1.05)),
                         'sofa'))
    return parts


def _front_panels(rng, width, height, front_y, z_bottom, color, class_name, group):
    """Doors (1-2 side by side) or 3-4 stacked drawers on a front face at ``front_y``, with metal handles."""
    parts = []
    handle = pick_color(rng, 'metal')
    panel_color = shade_color(color, rng.uniform(0.9, 1.08))
    if rng.random() < 0.65:
        doors = 1 if width < 0.6 else 2
        door_width = width / doors
        for i in range(doors):
            x = -width / 2 + (i + 0.5) * door_width
            parts.append(box(x, front_y + 0.008, z_bottom + 0.01, door_width - 0.01, 0.016, height - 0.02,
                             panel_color, class_name, group))
            handle_x = x + (door_width / 2 - 0.06) * (1 if i == 0 else -1)
            parts.append(box(handle_x, front_y + 0.026, z_bottom + height * 0.6, 0.02, 0.02, 0.12, handle,
                             class_name, group))
    else:
        drawers = int(rng.integers(3, 5))
        drawer_height = height / drawers
        for i in range(drawers):
            z = z_bottom + i * drawer_height
            parts.append(box(0, front_y + 0.008, z + 0.005, width - 0.02, 0.016, drawer_height - 0.01, panel_color,
                             class_name, group))
            parts.append(box(0, front_y + 0.026, z + drawer_height * 0.6, 0.14, 0.02, 0.02, handle, class_name,
                             group))
    return parts


def cabinet(rng, tall=None):
    """Body with door or drawer fronts: low (0.5-0.95 m) or tall (1.5-2.0 m)."""
    tall = rng.random() < 0.3 if tall is None else tall
    width, depth = rng.uniform(0.4, 1.2), rng.uniform(0.35, 0.6)
    height = rng.uniform(1.5, 2.0) if tall else rng.uniform(0.5, 0.95)
    color = pick_color(rng, 'cabinet')
    body_depth = depth - 0.016
    parts = [box(0, -0.008, 0, width, body_depth, height, color, 'cabinet')]
    return parts + _front_panels(rng, width, height, body_depth / 2 - 0.008, 0.0, color, 'cabinet', 0)


def bookshelf(rng):
    """Open frame (sides, top, plinth, back) with 2-5 shelves carrying rows of books."""
    width, depth, height = rng.uniform(0.6, 1.2), rng.uniform(0.28, 0.4), rng.uniform(1.0, 2.1)
    board = rng.uniform(0.02, 0.03)
    color = pick_color(rng, 'bookshelf')
    parts = [box(sx * (width / 2 - board / 2), 0, 0, board, depth, height, color, 'bookshelf') for sx in (-1, 1)]
    inner = width - 2 * board
    parts += [box(0, -depth / 2 + 0.005, 0, inner, 0.01, height, shade_color(color, 0.85), 'bookshelf'),
              box(0, 0.0, height - board, inner, depth, board, color, 'bookshelf'),
              box(0, 0.0, 0, inner, depth, 0.08, color, 'bookshelf')]
    levels = max(2, int(height / 0.36))
    spacing = (height - 0.08 - board) / levels
    for level in range(levels):
        shelf_z = 0.08 + level * spacing
        if level > 0:
            parts.append(box(0, 0.0, shelf_z - board, inner, depth - 0.01, board, color, 'bookshelf'))
        x = -inner / 2 + rng.uniform(0.0, 0.15)
        while x < inner / 2 - 0.08 and rng.random() < 0.93:
            book_width = rng.uniform(0.02, 0.07)
            book_height = min(rng.uniform(0.15, 0.3), spacing - board - 0.03)
            book_depth = min(rng.uniform(0.15, 0.25), depth - 0.03)
            parts.append(box(x + book_width / 2, -depth / 2 + 0.01 + book_depth / 2, shelf_z, book_width, book_depth,
                             book_height, pick_color(rng, 'book'), 'bookshelf'))
            x += book_width + (rng.uniform(0.1, 0.3) if rng.random() < 0.08 else 0.002)
    return parts


def counter(rng, with_sink):
    """Kitchen counter: base cabinet (group 0), worktop (group 1), optional sink (group 2) and optional wall
    cabinets above it (group 3)."""
    width, depth, height = rng.uniform(1.2, 2.6), rng.uniform(0.55, 0.65), rng.uniform(0.84, 0.9)
    worktop = rng.uniform(0.03, 0.045)
    base_color = pick_color(rng, 'cabinet')
    base_height = height - worktop
    body_depth = depth - 0.04
    parts = [box(0, -depth / 2 + body_depth / 2, 0, width, body_depth, base_height, base_color, 'cabinet')]
    parts += _front_panels(rng, width, base_height - 0.08, -depth / 2 + body_depth, 0.08, base_color, 'cabinet', 0)
    parts.append(box(0, 0.0, base_height, width + 0.02, depth, worktop, pick_color(rng, 'counter'), 'counter', 1))
    if with_sink:
        metal = pick_color(rng, 'metal')
        sink_width, sink_depth = rng.uniform(0.45, 0.7), rng.uniform(0.35, 0.42)
        x = rng.uniform(-1, 1) * (width / 2 - sink_width / 2 - 0.1)
        parts += [box(x, 0.02, height, sink_width, sink_depth, 0.012, metal, 'sink', 2),
                  box(x, 0.02 - sink_depth / 2 - 0.05, height, 0.04, 0.04, 0.28, metal, 'sink', 2),
                  box(x, 0.02 - sink_depth / 2 + 0.01, height + 0.24, 0.03, 0.12, 0.03, metal, 'sink', 2)]
    if rng.random() < 0.6:
        wall_depth, bottom = rng.uniform(0.3, 0.36), rng.uniform(1.42, 1.55)
        top = min(bottom + rng.uniform(0.6, 0.75), 2.3)
        wall_color = shade_color(base_color, rng.uniform(0.95, 1.05))
        parts.append(box(0, -depth / 2 + wall_depth / 2 - 0.008, bottom, width, wall_depth - 0.016, top - bottom,
                         wall_color, 'cabinet', 3))
        parts += _front_panels(rng, width, top - bottom, -depth / 2 + wall_depth - 0.016, bottom, wall_color,
                               'cabinet', 3)
    return parts


def refrigerator(rng):
    """Body, freezer + fridge doors (stacked or side by side) and handles; 1.6-1.9 m tall."""
    width, depth, height = rng.uniform(0.6, 0.9), rng.uniform(0.6, 0.75), rng.uniform(1.6, 1.9)
    color = pick_color(rng, 'refrigerator')
    handle = pick_color(rng, 'metal')
    body_depth = depth - 0.03
    front_y = -depth / 2 + body_depth
    parts = [box(0, -depth / 2 + body_depth / 2, 0, width, body_depth, height, color, 'refrigerator')]
    door_color = shade_color(color, 1.03)
    if rng.random() < 0.6 or width < 0.75:
        split = height * rng.uniform(0.62, 0.72)
        parts += [box(0, front_y + 0.015, 0.02, width - 0.01, 0.03, split - 0.03, door_color, 'refrigerator'),
                  box(0, front_y + 0.015, split, width - 0.01, 0.03, height - split - 0.01, door_color, 'refrigerator'),
                  box(width / 2 - 0.06, front_y + 0.045, split - 0.45, 0.03, 0.03, 0.35, handle, 'refrigerator'),
                  box(width / 2 - 0.06, front_y + 0.045, split + 0.05, 0.03, 0.03, 0.25, handle, 'refrigerator')]
    else:
        parts += [box(sx * width / 4, front_y + 0.015, 0.02, width / 2 - 0.01, 0.03, height - 0.03, door_color,
                      'refrigerator') for sx in (-1, 1)]
        parts += [box(sx * 0.04, front_y + 0.045, height * 0.35, 0.03, 0.03, 0.5, handle, 'refrigerator')
                  for sx in (-1, 1)]
    return parts


def toilet(rng):
    """Pedestal, bowl, seat and cistern (at -y); ceramic white."""
    bowl_width, bowl_depth, bowl_top = rng.uniform(0.36, 0.42), rng.uniform(0.45, 0.55), rng.uniform(0.38, 0.42)
    tank_width, tank_depth, tank_top = rng.uniform(0.4, 0.48), rng.uniform(0.16, 0.22), rng.uniform(0.72, 0.82)
    color = pick_color(rng, 'ceramic')
    length = bowl_depth + tank_depth
    bowl_y = -length / 2 + tank_depth + bowl_depth / 2
    return [box(0, bowl_y - 0.03, 0, bowl_width * 0.6, bowl_depth * 0.7, 0.25, color, 'toilet'),
            box(0, bowl_y, 0.25, bowl_width, bowl_depth, bowl_top - 0.25, color, 'toilet'),
            box(0, bowl_y + 0.01, bowl_top, bowl_width + 0.01, bowl_depth - 0.02, 0.025, shade_color(color, 0.97),
                'toilet'),
            box(0, -length / 2 + tank_depth / 2, 0.1, tank_width, tank_depth, tank_top - 0.1, color, 'toilet'),
            box(0, -length / 2 + tank_depth / 2, tank_top, tank_width + 0.02, tank_depth + 0.02, 0.025, color,
                'toilet')]


def bathroom_sink(rng):
    """Basin on a vanity cabinet (cabinet group 0, sink group 1) or on a pedestal (sink group 0 only)."""
    ceramic, metal = pick_color(rng, 'ceramic'), pick_color(rng, 'metal')
    basin_width, basin_depth = rng.uniform(0.45, 0.6), rng.uniform(0.35, 0.45)
    if rng.random() < 0.6:
        width, depth, height = rng.uniform(0.55, 0.9), rng.uniform(0.42, 0.5), rng.uniform(0.78, 0.84)
        color = pick_color(rng, 'cabinet')
        parts = [box(0, -0.008, 0, width, depth - 0.016, height, color, 'cabinet')]
        parts += _front_panels(rng, width, height - 0.1, depth / 2 - 0.016, 0.05, color, 'cabinet', 0)
        basin_bottom, sink_group = height, 1
    else:
        parts = [box(0, -0.05, 0, 0.16, 0.16, 0.7, ceramic, 'sink')]
        depth, basin_bottom, sink_group = basin_depth, 0.7, 0
    basin_y = -depth / 2 + basin_depth / 2 + 0.02
    parts += [box(0, basin_y, basin_bottom, basin_width, basin_depth, rng.uniform(0.1, 0.16), ceramic, 'sink',
                  sink_group),
              box(0, -depth / 2 + 0.04, basin_bottom, 0.04, 0.04, 0.28, metal, 'sink', sink_group)]
    return parts


def bathtub(rng):
    """Open tub (bottom + four walls, white) with, 70% of the time, a shower curtain along its front (group 1)."""
    width, depth, height = rng.uniform(1.5, 1.8), rng.uniform(0.7, 0.8), rng.uniform(0.5, 0.6)
    wall, bottom = rng.uniform(0.07, 0.1), rng.uniform(0.1, 0.15)
    color = pick_color(rng, 'ceramic')
    parts = [box(0, 0, 0, width, depth, bottom, color, 'bathtub'),
             box(0, -depth / 2 + wall / 2, bottom, width, wall, height - bottom, color, 'bathtub'),
             box(0, depth / 2 - wall / 2, bottom, width, wall, height - bottom, color, 'bathtub'),
             box(-width / 2 + wall / 2, 0, bottom, wall, depth - 2 * wall, height - bottom, color, 'bathtub'),
             box(width / 2 - wall / 2, 0, bottom, wall, depth - 2 * wall, height - bottom, color, 'bathtub')]
    if rng.random() < 0.7:
        length = rng.uniform(0.4, 1.0) * width
        x = rng.choice([-1, 1]) * (width - length) / 2
        bottom_z = height + rng.uniform(0.05, 0.25)
        parts.append(box(x, depth / 2 - 0.03, bottom_z, length, 0.02, rng.uniform(1.9, 2.0) - bottom_z,
                         pick_color(rng, 'shower curtain'), 'shower curtain', 1))
    return parts


def other_furniture(rng):
    """A stool, ottoman, side table, waste bin or coat stand, labelled 'other furniture'."""
    color = pick_color(rng, 'other furniture')
    kind = rng.integers(5)
    if kind == 0:  # stool
        size, height = rng.uniform(0.3, 0.4), rng.uniform(0.45, 0.7)
        return ([box(0, 0, height - 0.04, size, size, 0.04, color, 'other furniture')]
                + _four_legs(size, size, height - 0.04, 0.03, 0.02, _legs(rng, color), 'other furniture'))
    if kind == 1:  # ottoman
        return [box(0, 0, 0, rng.uniform(0.4, 0.8), rng.uniform(0.4, 0.6), rng.uniform(0.35, 0.45), color,
                    'other furniture')]
    if kind == 2:  # side table
        size, height = rng.uniform(0.4, 0.55), rng.uniform(0.5, 0.65)
        return ([box(0, 0, height - 0.03, size, size, 0.03, color, 'other furniture'),
                 box(0, 0, 0.1, size - 0.06, size - 0.06, 0.02, color, 'other furniture')]
                + _four_legs(size, size, height - 0.03, 0.035, 0.01, color, 'other furniture'))
    if kind == 3:  # waste bin
        size = rng.uniform(0.25, 0.35)
        return [box(0, 0, 0, size, size, rng.uniform(0.3, 0.6), color, 'other furniture')]
    height = rng.uniform(1.6, 1.8)  # coat stand
    return [box(0, 0, 0, 0.4, 0.4, 0.03, color, 'other furniture'),
            box(0, 0, 0.03, 0.04, 0.04, height - 0.03, color, 'other furniture'),
            box(0, 0, height - 0.2, 0.35, 0.03, 0.03, color, 'other furniture'),
            box(0, 0, height - 0.2, 0.03, 0.35, 0.03, color, 'other furniture')]
