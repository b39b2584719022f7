# SynthStreet, the embedded outdoor set (tools/create_data.py synthstreet): official nuScenes layout (v1.0-mini
# scene names, lidarseg), converted like real nuScenes; pixel pseudo-labels from the simulated labeller with the
# outdoor noise preset (most labels of some classes wrong, paper Fig. 5).
_base_ = ['./nuscenes_label_free.py']

data_root = 'data/synthstreet/'
version = 'v1.0-mini'
pseudo_label_dir = 'pseudo_labels/simulated'
data_prefix = dict(pts='samples/LIDAR_TOP', sweeps='sweeps/LIDAR_TOP', pts_semantic_mask='lidarseg/' + version,
                   pts_sets='sets', pseudo_labels=pseudo_label_dir)
train_dataloader = dict(batch_size=4, num_workers=2, dataset=dict(data_root=data_root, data_prefix=data_prefix))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, data_prefix=data_prefix))
test_dataloader = val_dataloader
# token_size 14: MaskCLIP sees the 1600x900 image at 448x256, so a 16 px ViT-B/16 token covers 57 px of it,
# i.e. 14 px of the 400x225 label image. The 2D ground truth of SynthStreet holds the 16 train ids (the
# nuscenes16 label set's image_raw_ids).
pseudo_labels = dict(labeller=dict(_delete_=True, type='SimulatedVLMLabeller', label_set='nuscenes16', seed=0,
                                   token_size=14),
                     cache_root=data_root + pseudo_label_dir, label_size=(400, 225))
