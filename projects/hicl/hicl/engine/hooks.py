"""The staged training schedule of the paper (3.4) as a hook."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmdet3d.registry import HOOKS


def stage_at_epoch(epoch, correlation_epoch, feedback_epoch):
    """Training stage of 0-based ``epoch``: 0 before ``correlation_epoch``, 1 from it, 2 from ``feedback_epoch``."""
    return int(epoch >= correlation_epoch) + int(epoch >= feedback_epoch)


@HOOKS.register_module()
class CorrelationStageHook(Hook):
    """Switches the HICLSegmentor's losses on at the configured epochs (paper 3.4).

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

    def before_train_epoch(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, 'set_stage'):
            raise TypeError(f'CorrelationStageHook needs a model with set_stage (HICLSegmentor), got '
                            f'{type(model).__name__}: remove the hook from custom_hooks or change model.type')
        stage = stage_at_epoch(runner.epoch, self.correlation_epoch, self.feedback_epoch)
        changed = stage != model.stage or runner.epoch == 0
        model.set_stage(stage)
        if changed:
            runner.logger.info(f'epoch {runner.epoch + 1}: training stage {stage}, losses '
                               f'{sorted(model.active_losses())}')
