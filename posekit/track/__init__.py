"""Following people across frames: assignment, the tracker with its track lifecycle, smoothing."""
