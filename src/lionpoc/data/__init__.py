"""Data: the data sets (a registry: the 15 Stanford Dogs breeds, any folder of images), reading a data folder,
downloading the photos, synthetic images, the split, and what the study records about its data.

``lionpoc.data`` itself exposes the functions the rest of the pipeline calls (reading a data folder, listing
the images, the split); the modules hold them: ``datasets``, ``description``, ``folders``, ``images``,
``records``, ``breeds``, ``download``, ``synth``.
"""
from lionpoc.data.images import (DATA_ENV, DEFAULT_DATA_DIR, IMAGE_SUFFIXES, MIN_IMAGES_PER_BREED,  # noqa: F401
                                 SYNTHETIC_MARKER, Listing, check_data_dir, data_kind, images_root, list_images,
                                 make_split, min_images_per_breed, min_images_per_class, read, resolve_data_dir,
                                 split_counts, split_given, split_official, split_random)
