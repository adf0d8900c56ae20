"""lionpoc: does Lion beat Adam and AdamW for transfer learning with Xception on 15 dog breeds?

Pipeline: data -> features -> training -> results -> report (see README.md).
"""
import os

# TensorFlow's start-up chatter (oneDNN, CUDA probing) hides our own progress output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
