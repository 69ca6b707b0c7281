"""Public StyleGAN2 models (NVIDIA pickles, rosinality checkpoints) read without running code from them."""
