# MaskCLIP pseudo-labels for the 6 cameras of nuScenes samples (the pseudo_labels dict of
# _base_/datasets/nuscenes_label_free.py), for mmdet3d's own v1.x info files:
#   python tools/make_text_embeddings.py --label-set nuscenes16 --pretrained /path/ViT-B-16.pt \
#       --out data/nuscenes/text_anchors.npz
#   python tools/make_pseudo_labels.py configs/pseudo_labels/maskclip_nuscenes.py \
#       --nuscenes-info data/nuscenes/nuscenes_infos_train.pkl --image-dir data/nuscenes/samples
# Writes <cache_root>/<LiDAR file stem>/<CAMERA>.png at label_size (the 1600x900 images scaled by 1/4).
# After tools/create_data.py nuscenes, tools/make_pseudo_labels.py configs/hicl_nuscenes.py does the same.
_base_ = ['../_base_/datasets/nuscenes_label_free.py']
