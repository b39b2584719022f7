"""Write the pixel pseudo-label cache of a config: python tools/make_pseudo_labels.py CONFIG [--overwrite]
[--splits train val].

Reads ``pseudo_labels = dict(labeller=dict(type=..., ...), cache_root=..., label_size=(W, H))`` (optional
``label_map_file``: ScanNet's scannetv2-labels.combined.tsv when the 2D label images hold ScanNet category ids, as
real ScanNet's do; ``label_set``: for a config without datasets, whose label set says what the 2D label images
hold, else the datasets' label set) from the config, labels every
frame (ScanNet layout) or camera image (nuScenes) of the datasets of ``<split>_dataloader`` (a config without
them: of <data_root>/hicl_infos_<split>.pkl) and prints the 2D mIoU against the true 2D labels where the frames
have them. Resumes: frames already in the cache are kept, except those whose input files (colour, 2D label and
instance images) changed in size or modification time since they were labelled, or that have no record of them
(a cache made by an older version): those are labelled again, and the report counts them.
"""
import argparse

from mmengine.config import Config

from hicl.pseudo_labels.labelling import format_report, info_label_set, label_dataset, load_scene_infos
from hicl.registry import PSEUDO_LABELLERS


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config with datasets (<split>_dataloader) and a pseudo_labels dict')
    parser.add_argument('--splits', nargs='+', default=['train'], help='dataset splits (<split>_dataloader) to label')
    parser.add_argument('--overwrite', action='store_true', help='delete an existing cache and label anew')
    parser.add_argument('--nuscenes-info', metavar='FILE',
                        help='label the 6 camera images of every sample of this mmdet3d v1.x nuScenes info file '
                             '(.pkl or .json) instead of the config\'s datasets')
    parser.add_argument('--image-dir', help='with --nuscenes-info: the folder the infos\' img_path are relative to')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    settings = cfg.pseudo_labels
    labeller = PSEUDO_LABELLERS.build(settings.labeller)
    label_set = settings.get('label_set')  # what the 2D label images hold; a config's datasets say it otherwise
    if args.nuscenes_info:
        from hicl.datasets.nuscenes_frames import nuscenes_camera_scenes, read_mmdet3d_infos
        scenes, image_root = nuscenes_camera_scenes(read_mmdet3d_infos(args.nuscenes_info)), args.image_dir or ''
        label_set = label_set or 'nuscenes16'
    elif all(cfg.get(f'{split}_dataloader') for split in args.splits):
        from hicl.datasets.labelling_scenes import build_labelling_dataset, built_dataset_scenes, split_dataset_config
        datasets = [build_labelling_dataset(split_dataset_config(cfg, split)) for split in args.splits]
        scenes = [scene for dataset in datasets for scene in built_dataset_scenes(dataset)]
        image_root = ''  # the datasets give the frames' paths
        label_set = label_set or datasets[0].metainfo['label_set']
    else:  # a labelling-only config: data_root with ScanNet-layout infos
        scenes, image_root = load_scene_infos(cfg.data_root, args.splits), cfg.data_root
        label_set = label_set or info_label_set(cfg.data_root, args.splits[0])
    if label_set is None:
        raise SystemExit(f'{args.config}: give pseudo_labels.label_set, the label set whose image_raw_ids say what '
                         "the 2D label images hold (e.g. label_set='nuscenes16')")
    result = label_dataset(scenes, image_root, labeller, settings.cache_root, settings.label_size,
                           overwrite=args.overwrite, label_set=label_set,
                           label_map_file=settings.get('label_map_file'))
    print(format_report(result, labeller.class_names))


if __name__ == '__main__':
    main()
