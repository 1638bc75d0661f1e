"""The learned networks: one module per family plus the layers they share.

``layers``     gated convolution (with TensorFlow 'SAME' padding for checkpoint parity), spectral-norm
               convolution, context normalisation, sub-pixel expansion with r1 != r2, feature-level masks
``attention``  contextual attention (DeepFillv2) and coherent semantic attention (CSA)
``deepfill``   DeepFillv2 generator (coarse + refinement) and the SN-PatchGAN discriminator
``csa``        CSA rough and refinement U-Nets, the 70x70 PatchGAN and the feature discriminator
``srn``        SRN feature expansion + context prediction networks and the WGAN critics

Every family module has a ``build_<family>(config)`` factory taking a JSON-serialisable dict (the
``config`` of the model's manifest entry); the inpainters and the training code both use it. Importing
this package does not import torch; importing any submodule does.
"""
