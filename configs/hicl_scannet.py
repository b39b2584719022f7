# HICL on ScanNet v2 with the paper's settings: MinkUNet14A, 5 cm voxels, 8 frames per scene, batch 8,
# 120 epochs, SGD lr 0.2 for the 3D net; intra-set refinement, intra- and inter-scene correlation, feedback KL and
# the stages (epochs 1-10 L_ce, from 11 + L^_ce, from 21 + L_kl, paper 3.4) as in _base_/hicl_paper.py.
_base_ = ['./baseline_scannet.py', './_base_/hicl_paper.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
model = {{_base_.hicl_model}}
