"""The staged training schedule of the paper (3.4) as a hook."""
from mmdet3d.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper


def stage_at_epoch(epoch, correlation_epoch, feedback_epoch):
    """Training stage of 0-based ``epoch``: 0 before ``correlation_epoch``, 1 from it, 2 from ``feedback_epoch``."""
    return int(epoch >= correlation_epoch) + int(epoch >= feedback_epoch)


@HOOKS.register_module()
class CorrelationStageHook(Hook):
    """Switches the HICLSegmentor's losses on at the configured epochs (paper 3.4); a model without training stages
    (a baseline) is left alone, so every config carries this hook (``default_hooks.correlation_stages``) and a
    HICL config needs nothing but its model.

    Epochs are 0-based, as runner.epoch: the paper's "from epoch 11: + L^_ce, from epoch 21: + L_kl" is
    ``correlation_epoch=10, feedback_epoch=20``. The stage is recomputed from the epoch at the start of every
    training epoch, so a resumed run continues in the stage it was in.
    """

    priority = 'NORMAL'

    def __init__(self, correlation_epoch=10, feedback_epoch=20):
        if not 0 <= correlation_epoch <= feedback_epoch:
            raise ValueError(f'need 0 <= correlation_epoch <= feedback_epoch, got {correlation_epoch} and '
                             f'{feedback_epoch}')
        self.correlation_epoch, self.feedback_epoch = correlation_epoch, feedback_epoch

    @staticmethod
    def _staged_model(runner):
        """The runner's model if it has training stages (``set_stage``), else None."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return model if hasattr(model, 'set_stage') else None

    def before_train(self, runner):
        """Refuse a schedule that ends before a stage the model has a loss for: a HICL run that never trains its
        necks (or never distils) would be a baseline under HICL's name."""
        model = self._staged_model(runner)
        if model is None:
            return
        unreached = [f'{what} from epoch {epoch + 1} ({key}={epoch})' for what, key, epoch, present in (
            ('the correlation losses', 'correlation_epoch', self.correlation_epoch, model.has_necks),
            ('the feedback KL', 'feedback_epoch', self.feedback_epoch, model.feedback_loss is not None))
            if present and epoch >= runner.max_epochs]
        if unreached:
            raise ValueError(
                f'train_cfg.max_epochs={runner.max_epochs} ends before {" and ".join(unreached)} of '
                f'CorrelationStageHook: the model would never train them. Train longer, or move the stages into the '
                f'schedule (--cfg-options default_hooks.correlation_stages.correlation_epoch=E1 '
                f'default_hooks.correlation_stages.feedback_epoch=E2, 0-based, E1 <= E2 < {runner.max_epochs})')

    def before_train_epoch(self, runner):
        model = self._staged_model(runner)
        if model is None:
            return
        stage = stage_at_epoch(runner.epoch, self.correlation_epoch, self.feedback_epoch)
        changed = stage != model.stage or runner.epoch == 0
        model.set_stage(stage)
        if changed:
            runner.logger.info(f'epoch {runner.epoch + 1}: training stage {stage}, losses '
                               f'{sorted(model.active_losses())}')


@HOOKS.register_module()
class CorrelationInstrumentHook(Hook):
    """Every ``interval``-th training iteration (0: never, the default of every shipped config outside
    configs/ablation/), asks the HICLSegmentor to measure what its necks do to the sampled points during that
    iteration's loss pass (:mod:`hicl.models.correlation_instruments`: ``<neck>_change``, attention entropy and
    mass on the same set / label per layer, ``acc_{net,intra,inter}``, ``agreement``), and logs the numbers as
    ``train/<name>`` scalars (the LoggerHook prints and writes the latest). Measuring costs an extra attention pass
    per neck, more than the necks' forward and backward, hence an interval; before the correlation stage, and for
    a model without necks, there is nothing to measure.
    """

    priority = 'NORMAL'  # after RuntimeInfoHook, before the LoggerHook

    def __init__(self, interval=0):
        if interval < 0:
            raise ValueError(f'interval must be >= 0 (0: no instruments), got {interval}')
        self.interval = interval

    @staticmethod
    def _instrumented_model(runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return model if hasattr(model, 'record_instruments') else None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        model = self._instrumented_model(runner)
        if model is not None:
            model.record_instruments = self.interval > 0 and (runner.iter + 1) % self.interval == 0

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = self._instrumented_model(runner)
        if model is None or not model.record_instruments:
            return
        model.record_instruments = False
        for name, value in model.instruments.items():
            runner.message_hub.update_scalar(f'train/{name}', value)


def _leaf_datasets(dataset):
    """The datasets inside mmengine's dataset wrappers (RepeatDataset, ConcatDataset, ...), or ``dataset``."""
    if hasattr(dataset, 'datasets'):
        return [leaf for inner in dataset.datasets for leaf in _leaf_datasets(inner)]
    if hasattr(dataset, 'dataset'):
        return _leaf_datasets(dataset.dataset)
    return [dataset]


def cache_roots_read(dataset):
    """The pseudo-label cache folders a training dataset reads: those of the leaf datasets whose pipeline has a
    LoadSceneFrames that reads the cache (no online labeller)."""
    from ..datasets.transforms.frames import LoadSceneFrames
    roots = []
    for leaf in _leaf_datasets(dataset):
        transforms = getattr(getattr(leaf, 'pipeline', None), 'transforms', [])
        if any(isinstance(t, LoadSceneFrames) and t.online_labeller is None for t in transforms):
            roots.append(leaf.data_prefix['pseudo_labels'])
    return sorted(set(roots))


@HOOKS.register_module()
class PseudoLabelCacheCheckHook(Hook):
    """Before training, check that every pseudo-label cache the training data reads was made with the config's
    ``pseudo_labels`` (labeller and label_size), by the rule of tools/make_pseudo_labels.py
    (:meth:`PseudoLabelCache.verify`), and holds labels of every frame of the training data made from the files
    the frame has now (``hicl.pseudo_labels.labelling.check_cache_frames``): a stale cache (other labeller
    settings, another label size, a deleted manifest, frames re-exported or regenerated since they were labelled,
    frames never labelled) stops the run with StaleCacheError instead of training on the wrong labels."""

    priority = 'VERY_HIGH'

    def before_train(self, runner):
        from ..datasets.labelling_scenes import built_dataset_scenes
        from ..pseudo_labels.cache import PseudoLabelCache
        from ..pseudo_labels.labelling import check_cache_frames, manifest_for
        from ..registry import PSEUDO_LABELLERS
        roots = cache_roots_read(runner.train_dataloader.dataset)
        if not roots:
            return
        settings = runner.cfg.get('pseudo_labels')
        if not settings or 'labeller' not in settings or 'label_size' not in settings:
            raise KeyError(f'the training data reads the pseudo-label cache {roots[0]}, but the config has no '
                           'pseudo_labels = dict(labeller=..., label_size=...) to check it against: add the '
                           'settings tools/make_pseudo_labels.py made it with')
        expected = manifest_for(PSEUDO_LABELLERS.build(settings['labeller']), settings['label_size'])
        leaves = _leaf_datasets(runner.train_dataloader.dataset)
        for root in roots:
            PseudoLabelCache(root).verify(expected)
            check_cache_frames(root, [scene for leaf in leaves if leaf.data_prefix.get('pseudo_labels') == root
                                      for scene in built_dataset_scenes(leaf)])
        runner.logger.info(f'pseudo-label cache {", ".join(roots)} matches the config\'s pseudo_labels and the '
                           'training frames')


@HOOKS.register_module()
class CorrelationProbeHook(Hook):
    """After every ``interval``-th validation epoch (0: never, the default of every shipped config outside
    configs/ablation/), the correlation instruments on the validation scenes against their TRUE classes
    (:func:`hicl.evaluation.correlation_probe.probe_correlation`), logged with the epoch's metrics as
    ``val/compactness`` and, once the necks train, ``val/<neck>_same_class_l<i>``, ``val/acc_<neck>``, ... It
    runs the net over the whole validation set a second time.

    Args:
        interval: probe after every ``interval``-th validation; 0 never.
        points_per_scene, scenes_per_batch, seed: see ``probe_correlation``.
    """

    priority = 'NORMAL'  # before the LoggerHook, which writes the epoch's val scalars

    def __init__(self, interval=0, points_per_scene=4000, scenes_per_batch=2, seed=0):
        if interval < 0:
            raise ValueError(f'interval must be >= 0 (0: no probe), got {interval}')
        self.interval = interval
        self.probe_args = dict(points_per_scene=points_per_scene, scenes_per_batch=scenes_per_batch, seed=seed)
        self.validations = 0

    def after_val_epoch(self, runner, metrics=None):
        self.validations += 1
        if self.interval == 0 or self.validations % self.interval:
            return
        from ..evaluation.correlation_probe import probe_correlation
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        for name, value in probe_correlation(model, runner.val_dataloader, **self.probe_args).items():
            runner.message_hub.update_scalar(f'val/{name}', value)


@HOOKS.register_module()
class OpenVocabularyHook(Hook):
    """Before testing (after the checkpoint is loaded), make the pseudo-label head classify against another
    vocabulary's (V, D) text anchors (``tools/test.py --vocabulary``); the metric then needs the vocabulary's
    ``class_mapping`` (:func:`hicl.open_vocabulary.evaluation_mapping`).

    Args:
        anchors: (V, D) array of the vocabulary's text anchors.
        names: the V names, for the log.
    """

    priority = 'NORMAL'

    def __init__(self, anchors, names):
        self.anchors, self.names = anchors, list(names)

    def before_test(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        model.decode_head.set_text_anchors(self.anchors)
        runner.logger.info(f'open vocabulary: classifying against {len(self.names)} names: {", ".join(self.names)}')
