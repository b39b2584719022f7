# MaskCLIP pseudo-labels for the 6 cameras of nuScenes samples:
#   python tools/make_text_embeddings.py --label-set nuscenes16 --pretrained /path/ViT-B-16.pt \
#       --out data/nuscenes/text_anchors.npz
#   python tools/make_pseudo_labels.py configs/pseudo_labels/maskclip_nuscenes.py \
#       --nuscenes-info data/nuscenes/nuscenes_infos_train.pkl --image-dir data/nuscenes/samples
# Writes <cache_root>/<LiDAR file stem>/<CAMERA>.png at label_size (the 1600x900 images scaled by 1/4).
data_root = 'data/nuscenes/'
pseudo_labels = dict(
    labeller=dict(type='MaskCLIPLabeller', anchors_file=data_root + 'text_anchors.npz', model='ViT-B-16',
                  pretrained='openai', input_size=(448, 256), prompt_denoising=False),
    cache_root=data_root + 'pseudo_labels/maskclip',
    label_size=(400, 225))
