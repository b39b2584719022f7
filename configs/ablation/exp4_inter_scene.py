# Paper EXP IV: EXP III + inter-scene correlation (3.2.3, Eq. 7): the intra-scene outputs of ALL scenes of the
# batch (and, distributed, of all ranks) pass a second 3-layer transformer as one sequence, so attention spans
# scenes; same Eq. 4 loss on its outputs.
_base_ = ['./exp3_intra_scene.py']

model = dict(inter_scene_neck=dict(type='InterSceneCorrelationNeck', gather_across_ranks=True,
                                   transformer={{_base_.correlation_transformer}}))
