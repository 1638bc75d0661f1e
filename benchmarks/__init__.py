"""InpaintStudio benchmarks: `python -m benchmarks` prints one table per question and writes RESULTS.md."""
