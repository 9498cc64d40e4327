"""Needle v1 in Python: PyTorch reference (model.py), numpy transcription (numpy_ref.py),
checkpoint-tree helpers (tree.py) and the ONNX graph writer (onnx_graphs.py)."""
