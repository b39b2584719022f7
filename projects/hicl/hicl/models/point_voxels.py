"""Points of a batch's scenes -> rows of the batch's voxel features."""


def batch_voxel_index(data_samples, point_indices):
    """For each scene b, the rows of the batch's (V, ...) voxel features that hold its points ``point_indices[b]``.

    data_samples: the B data samples, each with ``point2voxel_map`` (N_b,) (the scene's voxel of each point) and
    ``batch_idx`` (one entry per voxel of the scene), in the batch's order; point_indices: B (K_b,) long tensors
    of point indices. Returns a list of B (K_b,) long tensors: the scene's voxel index plus the number of voxels
    of the scenes before it.
    """
    rows, offset = [], 0
    for data_sample, point_idx in zip(data_samples, point_indices, strict=True):
        rows.append(data_sample.point2voxel_map[point_idx] + offset)
        offset += len(data_sample.batch_idx)
    return rows
