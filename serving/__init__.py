"""kerazoo.serving: a TensorFlow-Serving-compatible server (REST and gRPC) for exported SavedModels."""
