"""Data: the 15 breeds, finding and downloading the photos, synthetic images, the split.

``lionpoc.data`` itself exposes the functions the rest of the pipeline calls (listing the images,
the split); the modules hold them: ``breeds``, ``images``, ``download``, ``synth``.
"""
from lionpoc.data.images import (DATA_ENV, DEFAULT_DATA_DIR, IMAGE_SUFFIXES, MIN_IMAGES_PER_BREED,  # noqa: F401
                                 SYNTHETIC_MARKER, check_data_dir, data_kind, images_root, list_images, make_split,
                                 min_images_per_breed, resolve_data_dir, split_counts, split_official, split_random)
