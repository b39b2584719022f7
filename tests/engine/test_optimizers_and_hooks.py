"""The two-optimizer constructor (SGD 3D net, AdamW necks) and the stage hook (paper 3.4)."""
import re
from types import SimpleNamespace

import pytest
import torch
from mmdet3d.registry import MODELS
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

from hicl.engine import CorrelationInstrumentHook, CorrelationStageHook, JointOptimWrapperDict, stage_at_epoch
from hicl.models import HICLSegmentor

# the schedule's wrapper (the net's) with the necks' as its key ``necks``, as configs/_base_/schedules/ write it
OPTIM_WRAPPER = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.2, momentum=0.9, weight_decay=1e-4),
                     constructor='CorrelationOptimWrapperConstructor',
                     necks=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4)))


class TinyHICL(nn.Module):
    """Stand-in with the parameter names of HICLSegmentor, which names its necks in NECK_NAMES."""
    NECK_NAMES = HICLSegmentor.NECK_NAMES

    def __init__(self, with_necks=True, with_feedback=False):
        super().__init__()
        init_default_scope('mmdet3d')
        self.backbone = nn.Linear(3, 4)
        neck = dict(type='IntraSceneCorrelationNeck', transformer=dict(in_dims=4, num_layers=1, num_heads=1))
        self.intra_scene_neck = MODELS.build(neck) if with_necks else None
        self.feedback_loss = MODELS.build(dict(type='FeedbackKL')) if with_feedback else None
        self.stage = 0

    @property
    def has_necks(self):
        return self.intra_scene_neck is not None

    def set_stage(self, stage):
        self.stage = stage

    def active_losses(self):
        return {'loss_ce'} if self.stage == 0 else {'loss_ce', 'loss_intra'}


def test_parameters_are_split_between_sgd_for_the_net_and_adamw_for_the_necks():
    model = TinyHICL()
    wrapper = build_optim_wrapper(model, OPTIM_WRAPPER)
    assert isinstance(wrapper, JointOptimWrapperDict)
    net_params = {id(p) for group in wrapper['net'].optimizer.param_groups for p in group['params']}
    neck_params = {id(p) for group in wrapper['necks'].optimizer.param_groups for p in group['params']}
    assert type(wrapper['net'].optimizer).__name__ == 'SGD' and type(wrapper['necks'].optimizer).__name__ == 'AdamW'
    assert net_params == {id(p) for p in model.backbone.parameters()}
    assert neck_params == {id(p) for p in model.intra_scene_neck.parameters()}
    assert wrapper.get_lr() == {'net.lr': [0.2], 'necks.lr': [2e-4]}


def test_one_backward_updates_both_optimizers():
    model = TinyHICL()
    wrapper = build_optim_wrapper(model, OPTIM_WRAPPER)
    before = [p.detach().clone() for p in model.parameters()]
    x = torch.randn(5, 3)
    with wrapper.optim_context(model):
        loss = model.intra_scene_neck([model.backbone(x)])[0].pow(2).mean()
    wrapper.update_params(loss)
    assert all(not torch.equal(b, p) for b, p in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())  # zeroed for the next iteration


def test_a_model_without_necks_gets_the_schedules_wrapper_alone():
    model = TinyHICL(with_necks=False)
    wrapper = build_optim_wrapper(model, OPTIM_WRAPPER)
    assert type(wrapper) is OptimWrapper and type(wrapper.optimizer).__name__ == 'SGD'
    assert wrapper.optimizer.defaults['momentum'] == 0.9 and wrapper.get_lr() == {'lr': [0.2]}
    assert [p for group in wrapper.optimizer.param_groups for p in group['params']] == list(model.parameters())


def test_constructor_errors_name_the_fix():
    with pytest.raises(KeyError, match="needs optim_wrapper.necks"):
        build_optim_wrapper(TinyHICL(), {key: value for key, value in OPTIM_WRAPPER.items() if key != 'necks'})
    with pytest.raises(ValueError, match='paramwise_cfg is not supported'):
        build_optim_wrapper(TinyHICL(), dict(OPTIM_WRAPPER, paramwise_cfg=dict(norm_decay_mult=0)))


def test_stage_boundaries_are_the_papers_when_configured_so():
    # paper 3.4: epochs 1-10 L_ce, from epoch 11 + L^_ce, from epoch 21 + L_kl (runner epochs are 0-based)
    assert [stage_at_epoch(epoch, 10, 20) for epoch in (0, 9, 10, 19, 20, 119)] == [0, 0, 1, 1, 2, 2]
    assert [stage_at_epoch(epoch, 0, 0) for epoch in (0, 5)] == [2, 2]


def runner_at(epoch, model):
    logged = []
    return SimpleNamespace(epoch=epoch, model=model, logger=SimpleNamespace(info=logged.append)), logged


def test_hook_sets_the_stage_of_the_epoch_and_logs_switches():
    hook, model = CorrelationStageHook(correlation_epoch=2, feedback_epoch=4), TinyHICL()
    stages = []
    for epoch in range(6):
        runner, logged = runner_at(epoch, model)
        hook.before_train_epoch(runner)
        stages.append((model.stage, bool(logged)))
    assert stages == [(0, True), (0, False), (1, True), (1, False), (2, True), (2, False)]
    runner, logged = runner_at(3, TinyHICL())  # a resumed run starts in the stage of its epoch
    hook.before_train_epoch(runner)
    assert runner.model.stage == 1 and 'training stage 1' in logged[0]


def test_hook_refuses_bad_boundaries_and_leaves_models_without_stages_alone():
    with pytest.raises(ValueError, match='need 0 <= correlation_epoch <= feedback_epoch'):
        CorrelationStageHook(correlation_epoch=5, feedback_epoch=3)
    runner, logged = runner_at(0, nn.Linear(2, 2))  # a baseline: every config carries the hook
    runner.max_epochs = 1
    CorrelationStageHook().before_train(runner)
    CorrelationStageHook().before_train_epoch(runner)
    assert logged == [] and not hasattr(runner.model, 'stage')


@pytest.mark.parametrize('model_kwargs, max_epochs, unreached', [
    (dict(), 5, 'the correlation losses from epoch 6 (correlation_epoch=5)'),
    (dict(with_feedback=True), 8, 'the feedback KL from epoch 11 (feedback_epoch=10)'),
    (dict(with_feedback=True), 2, 'the correlation losses from epoch 6 (correlation_epoch=5) and the feedback KL'),
])
def test_hook_refuses_a_schedule_that_ends_before_a_stage_the_model_trains(model_kwargs, max_epochs, unreached):
    runner = SimpleNamespace(model=TinyHICL(**model_kwargs), max_epochs=max_epochs)
    with pytest.raises(ValueError, match=re.escape(f'train_cfg.max_epochs={max_epochs} ends before {unreached}')):
        CorrelationStageHook(correlation_epoch=5, feedback_epoch=10).before_train(runner)


def test_hook_accepts_a_schedule_that_reaches_every_stage_of_the_model():
    hook = CorrelationStageHook(correlation_epoch=5, feedback_epoch=10)
    hook.before_train(SimpleNamespace(model=TinyHICL(with_feedback=True), max_epochs=11))
    hook.before_train(SimpleNamespace(model=TinyHICL(), max_epochs=6))  # no feedback loss: its stage is not needed
    hook.before_train(SimpleNamespace(model=TinyHICL(with_necks=False), max_epochs=1))  # EXP I/II: no necks


class InstrumentedModel(nn.Module):
    """Stand-in for HICLSegmentor's instrument interface: measures (a count) when asked to."""

    def __init__(self):
        super().__init__()
        self.record_instruments, self.instruments, self.measured = False, {}, 0

    def loss(self):
        self.instruments = {}
        if self.record_instruments:
            self.measured += 1
            self.instruments = {'intra_change': 0.25 * self.measured}


@pytest.mark.parametrize('interval, measured_at', [(0, []), (3, [3, 6]), (1, [1, 2, 3, 4, 5, 6])])
def test_instrument_hook_measures_every_interval_th_iteration_and_logs_it(interval, measured_at):
    from mmengine.logging import MessageHub
    model, hook = InstrumentedModel(), CorrelationInstrumentHook(interval=interval)
    runner = SimpleNamespace(model=model, message_hub=MessageHub.get_instance(f'instruments_{interval}'))
    logged = []
    for iteration in range(6):
        runner.iter = iteration
        hook.before_train_iter(runner, iteration)
        model.loss()
        hook.after_train_iter(runner, iteration)
        scalars = runner.message_hub.log_scalars
        if 'train/intra_change' in scalars and len(scalars['train/intra_change'].data[0]) > len(logged):
            logged.append(iteration + 1)
        assert not model.record_instruments  # asked for one iteration only
    assert logged == measured_at and model.measured == len(measured_at)
    if measured_at:
        assert runner.message_hub.get_scalar('train/intra_change').current() == 0.25 * len(measured_at)
    hook.before_train_iter(SimpleNamespace(model=nn.Linear(2, 2), iter=2), 2)  # a model without instruments
    with pytest.raises(ValueError, match='interval must be >= 0'):
        CorrelationInstrumentHook(interval=-1)
