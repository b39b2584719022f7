"""Top-down views of a point cloud on matplotlib axes and as PNG files."""
import numpy as np

from ..fileio import atomic_write


def draw_top_down(axis, xyz, colours, title, point_size=4):
    """Scatter the (N, 3) points (metres) seen from above on a matplotlib ``axis``, in their (N, 3) colours, with
    equal x and y scales and no frame. Points are drawn from low to high, so from above the highest point of each
    spot shows; ``point_size`` is the marker area in points^2."""
    order = np.argsort(xyz[:, 2], kind='stable')
    axis.scatter(xyz[order, 0], xyz[order, 1], c=colours[order], s=point_size, linewidths=0)
    axis.set_title(title, fontsize=10)
    axis.set_aspect('equal')
    axis.axis('off')


def render_top_down(xyz, panels, out_path, title=''):
    """Write a PNG with one top-down view (:func:`draw_top_down`) of the (N, 3) points per (panel title, (N, 3)
    colours) pair (:func:`~hicl.fileio.atomic_write`: a failed write leaves no partial file)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4.8), squeeze=False)
    for axis, (panel_title, colours) in zip(axes[0], panels):
        draw_top_down(axis, xyz, colours, panel_title)
    figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    try:
        atomic_write(out_path, lambda file: figure.savefig(file, format='png', dpi=120))
    finally:
        plt.close(figure)
