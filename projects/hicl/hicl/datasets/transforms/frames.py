"""Sample camera frames of a scene and load what pairing needs: poses, depth maps and pixel pseudo-labels."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmdet3d.registry import TRANSFORMS

from ...dataset_io import read_depth
from ...geometry import scale_intrinsic
from ...label_sets import get_label_set, image_label_lut
from ...pseudo_labels.cache import PseudoLabelCache
from ...pseudo_labels.labelling import label_frames
from ...registry import PSEUDO_LABELLERS


@TRANSFORMS.register_module()
class LoadSceneFrames(BaseTransform):
    """Pick ``num_frames`` frames of the scene at random (CLIP2Scene: 8) and load them.

    Reads: ``frames`` (list of dicts with ``frame_id``, ``pose`` 4x4 camera-to-world, ``depth_path``; frames with
    their own camera (nuScenes) also carry ``intrinsic`` 3x3 and ``image_size`` (W, H) pixels), ``camera``
    (``depth_scale``; ``depth_size`` [W, H] pixels, which every depth map must have), ``scene_id``,
    ``pseudo_label_root``.
    Writes ``views``: dict(frame_ids list[str] (V,), camera_to_world (V, 4, 4) float64,
    depth (V, Hd, Wd) float32 metres, labels (V, Hl, Wl) uint8 pixel pseudo-labels, 255 = none; for frames with
    their own camera, intrinsic (V, 3, 3) float64 scaled to the label images).

    Args:
        num_frames: frames per sample; all frames when the scene has fewer.
        load_depth: False for data without depth maps (then ``depth`` is not written).
        online_labeller: None (default) reads the labels from the pseudo-label cache; a labeller config (e.g.
            dict(type='MaskCLIPLabeller', ...)) labels the sampled frames here instead, for small experiments.
        label_size: (W, H) of online label images; label_set, label_map_file: with an online labeller, the
            dataset's label set (how its true 2D label images' ids map to classes, for the simulated labeller) and
            ScanNet's label table when the images hold ScanNet category ids (``hicl.label_sets.image_label_lut``).
    """

    def __init__(self, num_frames=8, load_depth=True, online_labeller=None, label_size=(320, 240),
                 label_set=None, label_map_file=None):
        if num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        self.num_frames = num_frames
        self.load_depth = load_depth
        self.online_labeller = online_labeller
        self.label_size = tuple(label_size)
        self.label_lut = None
        if online_labeller is not None:
            if label_set is None:
                raise ValueError('LoadSceneFrames with an online_labeller needs label_set, the dataset\'s label set '
                                 "(e.g. label_set='scannet20'), to read the frames' true 2D labels")
            self.label_lut = image_label_lut(get_label_set(label_set)['image_raw_ids'], label_map_file)
        self._caches = {}
        self._labeller = None

    def _cache(self, root):
        if root not in self._caches:
            self._caches[root] = PseudoLabelCache(root)
        return self._caches[root]

    def _labels(self, results, frames):
        """(V, Hl, Wl) uint8 pixel pseudo-labels of the chosen frames, from the cache or the online labeller."""
        if self.online_labeller is None:
            cache = self._cache(results['pseudo_label_root'])
            return np.stack([cache.read(results['scene_id'], f['frame_id']) for f in frames])
        if self._labeller is None:  # built lazily: once per dataloader worker
            self._labeller = PSEUDO_LABELLERS.build(self.online_labeller)
        # frame paths are absolute here (the dataset joined them with its data_root)
        _, labels = label_frames(self._labeller, [(results['scene_id'], f) for f in frames], '', self.label_size,
                                 self.label_lut)
        return np.stack(labels)

    def transform(self, results):
        frames = results['frames']
        if not frames:
            raise ValueError(f'scene {results["scene_id"]} has no frames: cannot pair points with pixels')
        chosen = np.sort(np.random.choice(len(frames), min(self.num_frames, len(frames)), replace=False))
        frames = [frames[i] for i in chosen]
        views = dict(
            frame_ids=[f['frame_id'] for f in frames],
            camera_to_world=np.stack([np.asarray(f['pose'], dtype=np.float64) for f in frames]),
            labels=self._labels(results, frames))
        if all('intrinsic' in f for f in frames):
            label_size = (views['labels'].shape[2], views['labels'].shape[1])
            views['intrinsic'] = np.stack([scale_intrinsic(f['intrinsic'], f['image_size'], label_size)
                                           for f in frames])
        if self.load_depth:
            camera = results['camera']
            views['depth'] = np.stack([read_depth(f['depth_path'], camera.get('depth_scale', 1000.0),
                                                  camera.get('depth_size')) for f in frames])
        results['views'] = views
        return results

    def __repr__(self):
        return (f'{type(self).__name__}(num_frames={self.num_frames}, load_depth={self.load_depth}, '
                f'online_labeller={self.online_labeller})')
