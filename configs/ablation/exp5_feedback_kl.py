# Paper EXP V (full HICL): EXP IV + feedback distillation (3.3, Eq. 8): from the baseline's feedback stage on
# (epoch 11 of 30; see baseline_synthrooms.py) the 3D net's class distribution on the sampled points is pulled
# toward the inter-scene neck's (KL, the neck's side detached). The same composition as hicl_synthrooms.py.
_base_ = ['../baseline_synthrooms.py', '../_base_/hicl_cpu.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.refined_train_pipeline}}))
model = {{_base_.hicl_model}}
optim_wrapper = dict(_delete_=True, constructor='CorrelationOptimWrapperConstructor', net={{_base_.optim_wrapper}},
                     necks={{_base_.neck_optim_wrapper}})
custom_hooks = {{_base_.correlation_stages}}
