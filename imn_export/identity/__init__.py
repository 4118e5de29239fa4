"""Face identity: dlib's recognizer as the teacher and judge, a compact student encoder, presets."""
