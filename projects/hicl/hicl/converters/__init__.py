"""Offline converters: raw ScanNet / nuScenes layouts (and the embedded SynthRooms / SynthStreet, which are
written in those layouts) into the info files, point/mask binaries and geometric consistency sets that the
datasets of :mod:`hicl.datasets` load. Run by ``tools/create_data.py``; the runtime never imports this package
(what both sides read lives in :mod:`hicl.dataset_io`)."""
