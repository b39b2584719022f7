"""The scenes and camera frames of a config's dataset, in the form the pseudo-labelling code walks."""
from mmdet3d.registry import DATASETS
from mmengine.registry import init_default_scope


def split_dataset_config(cfg, split):
    """The dataset dict of ``cfg.<split>_dataloader`` (wrappers such as RepeatDataset unwrapped)."""
    key = f'{split}_dataloader'
    if not cfg.get(key):
        raise KeyError(f'the config has no {key}: cannot list the frames of split {split!r}')
    dataset = cfg[key]['dataset']
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def build_labelling_dataset(dataset_cfg):
    """The dataset ``dataset_cfg`` built without a pipeline (its metainfo and scenes are what labelling needs)."""
    init_default_scope('mmdet3d')
    return DATASETS.build(dict(dataset_cfg, pipeline=[]))


def built_dataset_scenes(dataset):
    """[dict(scene_id, frames)] of every sample of a built dataset. Frames are the dataset's (``frame_id`` and
    absolute or cwd-relative image / 2D-label paths), so ``label_dataset(scenes, '', ...)`` labels ScanNet-layout
    frames and nuScenes cameras alike."""
    infos = (dataset.get_data_info(index) for index in range(len(dataset)))
    return [dict(scene_id=info['scene_id'], frames=info['frames']) for info in infos]
