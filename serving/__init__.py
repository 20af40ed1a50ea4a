"""kerazoo.serving: a TensorFlow-Serving-compatible server (REST and gRPC) for exported SavedModels.

Nothing heavy is imported here: ``kerazoo.serving.server.ModelServer`` (the server),
``kerazoo.serving.tflite.convert_saved_model`` (TFLite conversion) and the other modules import
TensorFlow, Starlette and grpcio when they are used.
"""
