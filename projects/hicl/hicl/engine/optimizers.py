"""Two optimizers for one model: SGD for the 3D net, AdamW for the correlation necks (paper, implementation)."""
from contextlib import ExitStack, contextmanager

from mmdet3d.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS, OPTIMIZERS
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, DefaultOptimWrapperConstructor, OptimWrapper, OptimWrapperDict


@OPTIM_WRAPPERS.register_module()
class JointOptimWrapperDict(OptimWrapperDict):
    """Optimizer wrappers that are all updated from ONE backward of the total loss.

    mmengine's OptimWrapperDict leaves updating to the model (GAN style); here the runner's default
    ``update_params`` path works unchanged, also under MMDistributedDataParallel. The entries are all plain
    OptimWrapper, or all AmpOptimWrapper (``tools/train.py --amp``): then they share the first entry's loss
    scaler, the loss is scaled once, each optimizer steps through it (skipped when a gradient is not finite) and
    the scale is updated once per iteration, PyTorch's recipe for several optimizers under one GradScaler.
    Gradient accumulation is not supported (accumulative_counts=1).
    """

    def __init__(self, **optim_wrappers):
        super().__init__(**optim_wrappers)
        kinds = {type(wrapper) for wrapper in self.optim_wrappers.values()}
        counts = {wrapper._accumulative_counts for wrapper in self.optim_wrappers.values()}
        if not (kinds <= {OptimWrapper} or kinds <= {AmpOptimWrapper}) or counts != {1}:
            found = {name: type(wrapper).__name__ for name, wrapper in self.optim_wrappers.items()}
            raise ValueError(f'JointOptimWrapperDict needs entries that are all OptimWrapper or all AmpOptimWrapper '
                             f'(tools/train.py --amp sets both), with accumulative_counts=1; got {found}')
        wrappers = list(self.optim_wrappers.values())
        self.loss_scaler = wrappers[0].loss_scaler if kinds == {AmpOptimWrapper} else None
        self._scale_update_param = getattr(wrappers[0], '_scale_update_param', None)
        for wrapper in wrappers[1:]:
            if self.loss_scaler is not None:
                wrapper.loss_scaler = self.loss_scaler

    def update_params(self, loss, step_kwargs=None, zero_kwargs=None):
        if self.loss_scaler is None:
            loss.backward()
        else:
            self.loss_scaler.scale(loss).backward()
        for wrapper in self.optim_wrappers.values():
            if self.loss_scaler is None:
                wrapper.step(**(step_kwargs or {}))
                continue
            if wrapper.clip_grad_kwargs:
                self.loss_scaler.unscale_(wrapper.optimizer)
                wrapper._clip_grad()
            self.loss_scaler.step(wrapper.optimizer, **(step_kwargs or {}))
        if self.loss_scaler is not None:
            self.loss_scaler.update(self._scale_update_param)
        for wrapper in self.optim_wrappers.values():
            wrapper.zero_grad(**(zero_kwargs or {}))

    @contextmanager
    def optim_context(self, model):
        with ExitStack() as stack:
            for wrapper in self.optim_wrappers.values():
                stack.enter_context(wrapper.optim_context(model))
            yield


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class CorrelationOptimWrapperConstructor:
    """The schedule's optimizer for the 3D net, and one of its own for the correlation necks when the model has them.

    The schedule's ``optim_wrapper`` is the 3D net's, with the necks' as its key ``necks``::

        optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.2, momentum=0.9),
                             constructor='CorrelationOptimWrapperConstructor',
                             necks=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4)))

    A model with correlation-neck parameters (its ``NECK_NAMES`` modules, see HICLSegmentor) gets a
    JointOptimWrapperDict: ``net`` (every other parameter) and ``necks``; a model without them (a baseline) gets
    the net's wrapper alone, exactly as mmengine's default constructor builds it, so a baseline and a HICL config
    share one schedule.
    """

    def __init__(self, optim_wrapper_cfg, paramwise_cfg=None):
        if 'necks' not in optim_wrapper_cfg:
            raise KeyError('CorrelationOptimWrapperConstructor needs optim_wrapper.necks, the correlation necks\' '
                           'optim-wrapper config (e.g. dict(type=\'OptimWrapper\', optimizer=dict(type=\'AdamW\', '
                           'lr=2e-4)))')
        if paramwise_cfg:
            raise ValueError('paramwise_cfg is not supported by CorrelationOptimWrapperConstructor')
        net_cfg = dict(optim_wrapper_cfg)
        self.neck_cfg = dict(net_cfg.pop('necks'))
        self.net_cfg = net_cfg

    def __call__(self, model):
        model = model.module if is_model_wrapper(model) else model
        neck_prefixes = tuple(f'{name}.' for name in getattr(model, 'NECK_NAMES', ()))
        groups = dict(net=[], necks=[])
        for name, parameter in model.named_parameters():
            if parameter.requires_grad:
                groups['necks' if name.startswith(neck_prefixes) else 'net'].append(parameter)
        if not groups['necks']:
            return DefaultOptimWrapperConstructor(self.net_cfg)(model)
        wrappers = {}
        for key, cfg in (('net', self.net_cfg), ('necks', self.neck_cfg)):
            cfg = dict(cfg)
            optimizer = OPTIMIZERS.build(dict(cfg.pop('optimizer'), params=groups[key]))
            wrappers[key] = OPTIM_WRAPPERS.build(dict(cfg, optimizer=optimizer))
        return JointOptimWrapperDict(**wrappers)
