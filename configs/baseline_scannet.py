# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss)
# on ScanNet v2 with the paper's settings:
# MinkUNet14A, 5 cm voxels, 8 frames per scene, batch 8, SGD lr 0.2, 120 epochs, cosine decay.
_base_ = ['./_base_/datasets/scannet_label_free.py', './_base_/models/minkunet14a_clip.py',
          './_base_/schedules/sgd_cosine.py', './_base_/default_runtime.py']

model = dict(decode_head=dict(anchors_file='data/scannet/text_anchors.npz'))
# The HICL stages are the paper's (3.4; default_hooks.correlation_stages of _base_/default_runtime.py): L^_ce from
# epoch 11, L_kl from epoch 21.
