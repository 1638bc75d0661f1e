"""Model-independent training utilities: masks, sketches, the image dataset and the losses.

Everything here is plain numpy / OpenCV / torch so that any of the three networks (DeepFillv2, CSA, SRN)
can share one data pipeline and one set of loss functions.
"""
