"""The HICL segmentor: the label-free 3D net plus the correlation necks and the staged losses (paper 3.2-3.4).

It only wires the pieces: Eq. 1 in the pseudo-label head, Eq. 3 / 7 in the necks, Eq. 4 = Eq. 1 on the neck
outputs, Eq. 8 in FeedbackKL. Which losses are on is the training stage, set by CorrelationStageHook.
"""
from collections import namedtuple

import torch
from mmdet3d.registry import MODELS

from ...geometry.sampling import sample_points_by_set
from .. import correlation_instruments as instruments
from ..losses import cross_modal_ce_loss, text_anchor_logits
from ..point_voxels import batch_voxel_index
from .label_free_segmentor import LabelFreeSegmentor

# Paper 3.4: the losses each training stage adds.
STAGE_LOSSES = ({'loss_ce'}, {'loss_intra', 'loss_inter'}, {'loss_kl'})


@MODELS.register_module()
class HICLSegmentor(LabelFreeSegmentor):
    """LabelFreeSegmentor + hierarchical correlation learning; inference runs the 3D net only.

    Stage 0: L_ce (Eq. 1). Stage 1: + L^_ce of each neck (Eq. 4, refined labels). Stage 2: + L_kl (Eq. 8).
    The active losses are averaged (each is weighted 1 / #active, paper 3.4) unless ``loss_weights`` is given.

    Args:
        intra_scene_neck, inter_scene_neck: neck configs, or None to leave a neck out (ablation rows).
        inter_scene_input: what the inter-scene neck takes when both necks are present: 'net' (default, the
            paper's Eq. 7: the 3D net's features f_m of the sampled points of all scenes) or 'intra' (the
            intra-scene neck's outputs, a chained variant). The feedback KL distils the last neck's logits.
        feedback_loss: FeedbackKL config, or None.
        num_samples: M, the points sampled per scene over its geometric consistency sets.
        sample_every_set: False (the paper's M_k = M * N_k / N) or True (one point reserved per set first; see
            ``geometry.sampling.proportional_quotas``).
        loss_weights: None (the paper: the active losses averaged) or a dict of fixed weights by loss name
            (``loss_ce``, ``loss_intra``, ``loss_inter``, ``loss_kl``; a missing name weighs 1), not averaged.
        kwargs: LabelFreeSegmentor arguments.

    Attributes:
        record_instruments: when True (set by CorrelationInstrumentHook for one iteration), the next loss pass
            from the correlation stage on also measures what the necks do to the sampled points and keeps the
            numbers, as floats by name, in ``instruments`` (``models.correlation_instruments``); the loss dict
            holds losses only.
    """

    # The correlation necks, in hierarchy order (what the necks' optimizer trains), and every module that only
    # training uses (dropped for inference and export; optional in a checkpoint).
    NECK_NAMES = ('intra_scene_neck', 'inter_scene_neck')
    TRAINING_ONLY_MODULES = NECK_NAMES + ('feedback_loss',)

    INTER_SCENE_INPUTS = ('net', 'intra')

    def __init__(self, intra_scene_neck=None, inter_scene_neck=None, feedback_loss=None, num_samples=1024,
                 sample_every_set=False, loss_weights=None, inter_scene_input='net', **kwargs):
        super().__init__(**kwargs)
        if inter_scene_input not in self.INTER_SCENE_INPUTS:
            raise ValueError(f'inter_scene_input must be one of {self.INTER_SCENE_INPUTS}, got {inter_scene_input!r}')
        self.inter_scene_input = inter_scene_input
        for name, cfg in zip(self.NECK_NAMES, (intra_scene_neck, inter_scene_neck)):
            # registered even when None, so a checkpoint with neck weights loads into a model without them
            self.add_module(name, MODELS.build(cfg) if cfg else None)
        self.feedback_loss = MODELS.build(feedback_loss) if feedback_loss else None
        if self.feedback_loss is not None and not self.has_necks:
            raise ValueError('feedback_loss needs at least one correlation neck (intra_scene_neck or '
                             'inter_scene_neck) to distil from')
        unknown = set(loss_weights or {}) - set().union(*STAGE_LOSSES)
        if unknown:
            raise KeyError(f'loss_weights has unknown losses {sorted(unknown)}; the losses are '
                           f'{sorted(set().union(*STAGE_LOSSES))}')
        self.num_samples, self.sample_every_set = num_samples, sample_every_set
        self.loss_weights = loss_weights
        self.stage = 0
        self.record_instruments, self.instruments = False, {}

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
        """Dict of the active losses, weighted (by default each divided by their number); with
        ``record_instruments``, also fills ``instruments``."""
        active = self.active_losses()
        voxel_features = self.decode_head.embed(self.extract_feat(inputs))  # (V, D) f in CLIP space
        anchors = self.decode_head.text_anchors
        losses = self.decode_head.loss_by_feat(text_anchor_logits(voxel_features, anchors), data_samples)
        self.instruments = {}
        if active != {'loss_ce'}:
            correlation_losses, self.instruments = self.correlation_losses(voxel_features, data_samples, active,
                                                                           self.record_instruments)
            losses.update(correlation_losses)
        if self.loss_weights is None:
            weighted = {name: value / len(losses) for name, value in losses.items()}
        else:
            weighted = {name: value * self.loss_weights.get(name, 1.0) for name, value in losses.items()}
        return weighted

    def correlation_losses(self, voxel_features, data_samples, active, with_instruments=False):
        """Eq. 4 for each neck and Eq. 8 on the M sampled points of every scene; and the instruments (an empty
        dict unless ``with_instruments``)."""
        ignore_index = self.decode_head.ignore_index
        tokens = sample_correlation_tokens(data_samples, self.num_samples, ignore_index,
                                           every_set=self.sample_every_set)
        net_features = voxel_features[torch.cat(tokens.voxel_idx)]
        net_logits = text_anchor_logits(net_features, self.decode_head.text_anchors)
        if with_instruments:
            token_label = instruments.token_labels(tokens.pair_token_idx, tokens.pair_labels, len(net_features),
                                                   net_logits.shape[1])
            groups = dict(set=tokens.token_sets, label=token_label)
            stats = dict(acc_net=instruments.accuracy(net_logits, token_label))
        else:
            stats = {}
        losses = {}
        neck_passes = self.neck_passes(list(net_features.split([len(idx) for idx in tokens.voxel_idx])))
        for short_name, neck, inputs, outputs, logits in neck_passes:
            losses[f'loss_{short_name}'] = cross_modal_ce_loss(logits[tokens.pair_token_idx], tokens.pair_labels,
                                                               ignore_index)  # Eq. 4
            if with_instruments:
                stats.update(instruments.neck_instruments(short_name, neck, inputs, outputs, groups, logits,
                                                          token_label))
        if 'loss_kl' in active:
            losses['loss_kl'] = self.feedback_loss(net_logits, logits)  # Eq. 8
        if with_instruments:
            stats['agreement'] = instruments.agreement(net_logits, logits)
        return losses, stats

    def neck_passes(self, net_features):
        """Run the necks present on a list of B (M_b, D) token features of the 3D net: the intra-scene neck on
        them (Eq. 3), then the inter-scene neck on them too (Eq. 7) or, with ``inter_scene_input='intra'``, on the
        intra-scene outputs. Yields, per neck present, in that order: its short name (``intra`` / ``inter``), the
        neck, its inputs and outputs (lists of B (M_b, D)) and the (T, C) text-anchor logits of its outputs."""
        anchors = self.decode_head.text_anchors
        intra_outputs = None
        for name in self.NECK_NAMES:
            neck = getattr(self, name)
            if neck is None:
                continue
            chained = name == 'inter_scene_neck' and self.inter_scene_input == 'intra' and intra_outputs is not None
            inputs = intra_outputs if chained else net_features
            outputs = neck(inputs)
            if name == 'intra_scene_neck':
                intra_outputs = outputs
            yield name.split('_')[0], neck, inputs, outputs, text_anchor_logits(torch.cat(outputs), anchors)


CorrelationTokens = namedtuple('CorrelationTokens', 'voxel_idx pair_token_idx pair_labels token_sets')


def sample_correlation_tokens(data_samples, num_samples, ignore_index, every_set=False):
    """The correlation tokens of a batch: M points per scene drawn over its sets (paper 3.2.2) among the points
    with a labelled pair (quotas: ``every_set``, see ``geometry.sampling.proportional_quotas``), and the pairs
    that supervise them.

    Reads ``point_sets`` (N,), ``pseudo_pairs`` and ``point2voxel_map`` (N,) of every data sample.
    Returns CorrelationTokens: voxel_idx, a list of B (M_b,) batch-voxel indices of the sampled points;
    pair_token_idx (P',), the token (row of the concatenated B scenes) of each supervising pair; pair_labels (P',)
    their refined labels; token_sets (T,) the set of every token, numbered across the batch (sets of different
    scenes never share a number).
    """
    sampled_points, pair_token_idx, pair_labels, token_sets = [], [], [], []
    token_offset = set_offset = 0
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
        token_sets.append(point_sets[point_idx] + set_offset)
        token_offset += len(point_idx)
        set_offset += int(point_sets.max()) + 1 if len(point_sets) else 0
    return CorrelationTokens(batch_voxel_index(data_samples, sampled_points), torch.cat(pair_token_idx),
                             torch.cat(pair_labels), torch.cat(token_sets))
