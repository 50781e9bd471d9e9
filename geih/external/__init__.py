"""External models the hub uses but MLflow does not manage (FourCastNet, NVIDIA Modulus, …).

adapter (the interface, metadata, errors) · gridded (shared input preparation) · regrid (cells ↔ model
grid) · onnx_adapter (onnxruntime; FOURCASTNET_METADATA) · callable_adapter (a Python function) ·
registry (the JSON registry of versions) · commands (`geih external`).
"""
