"""The fill engine: inpainters, their registry, shared pre/post-processing and the job runner.

Pure Python, numpy and (lazily) torch; never Qt. The app and the command line both drive it.
"""
