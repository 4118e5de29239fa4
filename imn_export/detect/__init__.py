"""Face detection for whole photos: MTCNN ported from the weights the ``mtcnn`` package ships."""
