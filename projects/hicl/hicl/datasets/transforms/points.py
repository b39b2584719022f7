"""Loading a scene's points and its per-point files, refusing files that cannot give one usable value per point
with an error naming the file (and the scene) and the fix, instead of a shape error deep in the model."""
from mmdet3d.datasets.transforms import LoadAnnotations3D, LoadPointsFromFile
from mmdet3d.registry import TRANSFORMS

from ...dataset_io import PointsFileError, check_point_values

POINTS_FIX = ('convert the dataset again (python tools/create_data.py ... --overwrite) or re-download the file, or '
              'set load_dim to the number of float32 values per point of intact files')
PER_POINT_FIX = ('the two files belong to different versions of the scene: convert the dataset again (python '
                 'tools/create_data.py ... --overwrite), or check the data_prefix folders of the dataset')


def check_one_per_point(results, values, path, what, fix=PER_POINT_FIX):
    """Raise PointsFileError naming the scene, ``path``, the points file and both counts unless ``values`` (read
    from ``path``: ``what`` per point) has one entry per loaded point; nothing when no points are loaded yet."""
    if 'points' in results and len(values) != len(results['points']):
        raise PointsFileError(
            f'scene {results.get("scene_id", "?")}: {path} holds {len(values)} {what}, but its points file '
            f'{results.get("lidar_points", {}).get("lidar_path", "?")} holds {len(results["points"])} points: {fix}')


@TRANSFORMS.register_module()
class LoadPointsChecked(LoadPointsFromFile):
    """mmdet3d's LoadPointsFromFile (same arguments, reads ``lidar_points.lidar_path``, writes ``points``) that
    refuses, with PointsFileError naming the file and the fix, a points file whose size is not a whole number of
    points of ``load_dim`` float32 values, that holds no points, or that holds NaN or Inf values."""

    def _load_points(self, pts_filename):
        try:
            values = super()._load_points(pts_filename)
        except ValueError as err:  # numpy: the file's size is not a whole number of float32 values
            raise PointsFileError(f'points file {pts_filename} is not a sequence of float32 values ({err}): '
                                  f'{POINTS_FIX}') from err
        check_point_values(values, pts_filename, self.load_dim, 'points file', POINTS_FIX)
        return values


@TRANSFORMS.register_module()
class LoadAnnotations3DChecked(LoadAnnotations3D):
    """mmdet3d's LoadAnnotations3D (same arguments, keys read and written) that refuses, with PointsFileError
    naming the scene, both files and both counts, a semantic or instance mask without one value per loaded point
    (run it after the points are loaded)."""

    def transform(self, results):
        results = super().transform(results)
        for key, what in (('pts_semantic_mask', 'semantic labels'), ('pts_instance_mask', 'instance ids')):
            if key in results:
                check_one_per_point(results, results[key], results[f'{key}_path'], what)
        return results
