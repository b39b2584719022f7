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
    # after each validation: compactness of the net's features per true class and the necks' attention on val
    correlation_probe=dict(type='CorrelationProbeHook'),
    visualization=dict(type='Det3DVisualizationHook'))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
log_level = 'INFO'
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Det3DLocalVisualizer', vis_backends=vis_backends, name='visualizer')
randomness = dict(seed=0)
load_from = None
resume = False
