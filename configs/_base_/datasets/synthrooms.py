# SynthRooms, the embedded default (tools/create_data.py synthrooms): ScanNet layout, simulated VLM labeller;
# 24 train rooms, 6 val rooms (every choice is made on them) and 10 test rooms (reported, tools/test.py).
_base_ = ['./scannet_label_free.py']

data_root = 'data/synthrooms/'
pseudo_label_dir = 'pseudo_labels/simulated'
data_prefix = dict(pts='points', pts_semantic_mask='semantic_mask', pseudo_labels=pseudo_label_dir)
train_dataloader = dict(batch_size=4, num_workers=2,
                        dataset=dict(data_root=data_root, data_prefix=data_prefix))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, data_prefix=data_prefix))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, data_prefix=data_prefix,
                                                   ann_file='hicl_infos_test.pkl'))
pseudo_labels = dict(labeller=dict(_delete_=True, type='SimulatedVLMLabeller', seed=0),
                     cache_root=data_root + pseudo_label_dir, label_size=(320, 240),
                     label_map_file=None)  # SynthRooms' label-filt images hold NYU40 ids
