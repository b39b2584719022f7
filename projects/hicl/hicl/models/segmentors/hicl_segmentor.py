"""The HICL segmentor: the label-free 3D net plus the correlation necks and the staged losses (paper 3.2-3.4).

It only wires the pieces: Eq. 1 in the pseudo-label head, Eq. 3 / 7 in the necks, Eq. 4 = Eq. 1 on the neck
outputs, Eq. 8 in FeedbackKL. Which losses are on is the training stage, set by CorrelationStageHook.
"""
import torch
from mmdet3d.registry import MODELS

from ...geometry.sampling import sample_points_by_set
from ..losses import cross_modal_ce_loss, text_anchor_logits
from ..point_voxels import batch_voxel_index
from .label_free_segmentor import LabelFreeSegmentor

# Paper 3.4: the losses each training stage adds.
STAGE_LOSSES = ({'loss_ce'}, {'loss_intra', 'loss_inter'}, {'loss_kl'})


@MODELS.register_module()
class HICLSegmentor(LabelFreeSegmentor):
    """LabelFreeSegmentor + hierarchical correlation learning; inference runs the 3D net only.

    Stage 0: L_ce (Eq. 1). Stage 1: + L^_ce of each neck (Eq. 4, refined labels). Stage 2: + L_kl (Eq. 8).
    The active losses are averaged (each is weighted 1 / #active).

    Args:
        intra_scene_neck, inter_scene_neck: neck configs, or None to leave a neck out (ablation rows); with
            both, the inter-scene neck takes the intra-scene outputs (the hierarchy).
        feedback_loss: FeedbackKL config, or None.
        num_samples: M, the points sampled per scene over its geometric consistency sets.
        sample_every_set: False (the paper's M_k = M * N_k / N) or True (one point reserved per set first; see
            ``geometry.sampling.proportional_quotas``).
        kwargs: LabelFreeSegmentor arguments.
    """

    # The correlation necks, in hierarchy order (what the necks' optimizer trains), and every module that only
    # training uses (dropped for inference and export; optional in a checkpoint).
    NECK_NAMES = ('intra_scene_neck', 'inter_scene_neck')
    TRAINING_ONLY_MODULES = NECK_NAMES + ('feedback_loss',)

    def __init__(self, intra_scene_neck=None, inter_scene_neck=None, feedback_loss=None, num_samples=1024,
                 sample_every_set=False, **kwargs):
        super().__init__(**kwargs)
        for name, cfg in zip(self.NECK_NAMES, (intra_scene_neck, inter_scene_neck)):
            # registered even when None, so a checkpoint with neck weights loads into a model without them
            self.add_module(name, MODELS.build(cfg) if cfg else None)
        self.feedback_loss = MODELS.build(feedback_loss) if feedback_loss else None
        if self.feedback_loss is not None and not self.has_necks:
            raise ValueError('feedback_loss needs at least one correlation neck (intra_scene_neck or '
                             'inter_scene_neck) to distil from')
        self.num_samples, self.sample_every_set = num_samples, sample_every_set
        self.stage = 0

    @property
    def has_necks(self):
        return any(getattr(self, name) is not None for name in self.NECK_NAMES)

    def set_stage(self, stage):
        """Switch the training stage (0, 1 or 2, paper 3.4)."""
        if stage not in range(len(STAGE_LOSSES)):
            raise ValueError(f'training stage must be 0, 1 or 2, got {stage}')
        self.stage = stage

    def active_losses(self):
        """Names of the losses of the current stage that this model can compute."""
        parts = {'loss_ce': True, 'loss_intra': self.intra_scene_neck is not None,
                 'loss_inter': self.inter_scene_neck is not None, 'loss_kl': self.feedback_loss is not None}
        return {name for name in set().union(*STAGE_LOSSES[:self.stage + 1]) if parts[name]}

    def loss(self, inputs, data_samples):
        """Dict of the active losses, each already divided by their number."""
        active = self.active_losses()
        voxel_features = self.decode_head.embed(self.extract_feat(inputs))  # (V, D) f in CLIP space
        anchors = self.decode_head.text_anchors
        losses = self.decode_head.loss_by_feat(text_anchor_logits(voxel_features, anchors), data_samples)
        if active != {'loss_ce'}:
            losses.update(self.correlation_losses(voxel_features, data_samples, active))
        return {name: value / len(losses) for name, value in losses.items()}

    def correlation_losses(self, voxel_features, data_samples, active):
        """Eq. 4 for each neck and Eq. 8 on the M sampled points of every scene."""
        anchors, ignore_index = self.decode_head.text_anchors, self.decode_head.ignore_index
        voxel_idx, pair_token_idx, pair_labels = sample_correlation_tokens(
            data_samples, self.num_samples, ignore_index, every_set=self.sample_every_set)
        net_features = voxel_features[torch.cat(voxel_idx)]
        scene_features = list(net_features.split([len(idx) for idx in voxel_idx]))
        losses = {}
        for name, loss_name in zip(self.NECK_NAMES, ('loss_intra', 'loss_inter')):
            neck = getattr(self, name)
            if neck is None:
                continue
            scene_features = neck(scene_features)
            logits = text_anchor_logits(torch.cat(scene_features), anchors)
            losses[loss_name] = cross_modal_ce_loss(logits[pair_token_idx], pair_labels, ignore_index)  # Eq. 4
        if 'loss_kl' in active:
            losses['loss_kl'] = self.feedback_loss(text_anchor_logits(net_features, anchors), logits)  # Eq. 8
        return losses


def sample_correlation_tokens(data_samples, num_samples, ignore_index, every_set=False):
    """The correlation tokens of a batch: M points per scene drawn over its sets (paper 3.2.2) among the points
    with a labelled pair (quotas: ``every_set``, see ``geometry.sampling.proportional_quotas``), and the pairs
    that supervise them.

    Reads ``point_sets`` (N,), ``pseudo_pairs`` and ``point2voxel_map`` (N,) of every data sample.
    Returns voxel_idx, a list of B (M_b,) batch-voxel indices of the sampled points; pair_token_idx (P',), the
    token (row of the concatenated B scenes) of each supervising pair; pair_labels (P',) their refined labels.
    """
    sampled_points, pair_token_idx, pair_labels = [], [], []
    token_offset = 0
    for data_sample in data_samples:
        if 'point_sets' not in data_sample:
            raise KeyError('HICLSegmentor samples its correlation points over the geometric consistency sets: add '
                           "dict(type='LoadPointSets') to the train pipeline (before PackLabelFreeInputs)")
        pairs, point_sets = data_sample.pseudo_pairs, data_sample.point_sets
        labelled = pairs.label != ignore_index
        candidates = torch.zeros(len(point_sets), dtype=torch.bool, device=point_sets.device)
        candidates[pairs.point_idx[labelled]] = True
        point_idx = sample_points_by_set(point_sets.cpu(), candidates.cpu(), num_samples,
                                         every_set=every_set).to(point_sets.device)
        token_of_point = torch.full_like(point_sets, -1)
        token_of_point[point_idx] = torch.arange(len(point_idx), device=point_sets.device) + token_offset
        pair_tokens = token_of_point[pairs.point_idx]
        supervising = labelled & (pair_tokens >= 0)
        sampled_points.append(point_idx)
        pair_token_idx.append(pair_tokens[supervising])
        pair_labels.append(pairs.label[supervising])
        token_offset += len(point_idx)
    return batch_voxel_index(data_samples, sampled_points), torch.cat(pair_token_idx), torch.cat(pair_labels)
