"""The contract every pixel pseudo-labeller (simulated, MaskCLIP, or a user's own) fulfils."""


class PseudoLabeller:
    """Base class of the labellers registered in ``hicl.registry.PSEUDO_LABELLERS``; the labelling code
    (``labelling.label_frames``: tools/make_pseudo_labels.py and online labelling in LoadSceneFrames) relies on
    exactly this.

    A subclass sets, in its ``__init__``:

    - ``class_names``: the C class names its ids 0..C-1 refer to (C <= 255);
    - ``params``: dict of every parameter that shapes the labels (written to the cache manifest via ``config``);
    - ``anchor_sha256``: sha256 of the text anchors it uses (None, the default, for none);

    and states, as class attributes, ``required_inputs`` (names of the per-frame inputs it reads, keys of
    ``labelling.FRAME_INPUTS``) and ``batch_size`` (frames handed to one ``label_batch`` call), and implements
    :meth:`label_batch`.
    """
    required_inputs = ()
    batch_size = 1
    anchor_sha256 = None

    @property
    def config(self):
        """Type and every parameter that shapes the labels, as written to the cache manifest."""
        return dict(type=type(self).__name__, **self.params)

    def label_batch(self, frame_ids, label_size, **inputs):
        """Label frames: ``frame_ids`` a list of F (scene_id, frame_id); each of ``inputs`` (the
        ``required_inputs``) a list of F per-frame arrays; label_size = (w, h) pixels. Returns a list of F
        (h, w) uint8 label images (ids 0..C-1, 255 = no label)."""
        raise NotImplementedError(f'{type(self).__name__} must implement label_batch')
