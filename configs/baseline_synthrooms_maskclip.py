# The SynthRooms demo trained on MaskCLIP pseudo-labels instead of the simulated labeller: the real labelling path
# end to end. Without CLIP weights (pretrained=None, as shipped) the ViT-B-16 is randomly initialised, so the
# labels carry no meaning; with weights, set pretrained='openai' or a checkpoint path and anchors from
# tools/make_text_embeddings.py with the same model.
_base_ = ['./baseline_synthrooms.py']

pseudo_label_dir = 'pseudo_labels/maskclip'
data_root = 'data/synthrooms/'
train_dataloader = dict(dataset=dict(data_prefix=dict(pseudo_labels=pseudo_label_dir)))
pseudo_labels = dict(
    labeller=dict(_delete_=True, type='MaskCLIPLabeller', anchors_file=data_root + 'text_anchors.npz',
                  model='ViT-B-16', pretrained=None, input_size=(416, 320)),
    cache_root=data_root + pseudo_label_dir)
