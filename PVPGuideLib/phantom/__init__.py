"""The bundled anatomical CT phantom (shapes, pose, fractures, skin grid) and its ground truth."""
