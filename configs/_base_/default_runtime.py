# Runtime shared by every HICL config: the plugin, hooks, logging, environment.
custom_imports = dict(imports=['hicl'], allow_failed_imports=False)

default_scope = 'mmdet3d'
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic writes, the old best deleted after the new one is complete, no checkpoint of non-finite weights;
    # loaded checkpoints checked (keys, shapes, finite weights, voxel size and classes they were trained with)
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=3, save_best='miou', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    finite_loss=dict(type='FiniteLossHook'),  # a NaN or infinite loss stops training at once, naming the iteration
    pseudo_label_check=dict(type='PseudoLabelCacheCheckHook'),  # the cache was made with pseudo_labels
    # HICL's training stages (paper 3.4, 0-based epochs; a baseline model has none and is left alone): each
    # dataset's baseline config sets them for its schedule
    correlation_stages=dict(type='CorrelationStageHook', correlation_epoch=10, feedback_epoch=20),
    # Research diagnostics of the correlation necks, off (interval 0): the configs in configs/ablation/ switch them
    # on with default_hooks = {{_base_.neck_diagnostics}}, any other config with
    #   --cfg-options default_hooks.correlation_probe.interval=1 default_hooks.correlation_instruments.interval=10
    # The probe runs the net over the val set a second time after each validation (compactness of its features per
    # true class, the necks' attention); the instruments measure the necks every 10th training iteration.
    correlation_probe=dict(type='CorrelationProbeHook', interval=0),
    correlation_instruments=dict(type='CorrelationInstrumentHook', interval=0),
    visualization=dict(type='Det3DVisualizationHook'))
neck_diagnostics = dict(correlation_probe=dict(interval=1), correlation_instruments=dict(interval=10))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
log_level = 'INFO'
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Det3DLocalVisualizer', vis_backends=vis_backends, name='visualizer')
randomness = dict(seed=0)
load_from = None
resume = False
# Where tools/test.py runs the net: 'cpu', 'cuda', or 'auto' (CUDA when torch sees a GPU, else the CPU); its
# --device overrides it. Training runs where the runner puts the model (CUDA whenever there is a GPU).
device = 'auto'
