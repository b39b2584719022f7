# The Eq. 1 baseline (paper EXP I: the cross-modal CE alone, not CLIP2Scene's full loss)
# on ScanNet v2 with the paper's settings:
# MinkUNet14A, 5 cm voxels, 8 frames per scene, batch 8, SGD lr 0.2, 120 epochs, cosine decay.
_base_ = ['./_base_/datasets/scannet_label_free.py', './_base_/models/minkunet14a_clip.py',
          './_base_/schedules/sgd_cosine.py', './_base_/default_runtime.py']

model = dict(decode_head=dict(anchors_file='data/scannet/text_anchors.npz'))
# The HICL stages (paper 3.4): L^_ce from epoch 11, L_kl from epoch 21 (0-based 10 and 20).
correlation_stages = [dict(type='CorrelationStageHook', correlation_epoch=10, feedback_epoch=20)]
