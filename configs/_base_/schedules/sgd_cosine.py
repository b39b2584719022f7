# SGD with momentum 0.9 and weight decay 1e-4 (CLIP2Scene / HICL), cosine decay over the epochs.
max_epochs = 120
lr = 0.2
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=lr * 1e-3, by_epoch=True, begin=0,
                        end=max_epochs)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=8)
