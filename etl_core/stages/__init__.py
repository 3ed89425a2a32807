"""The pipeline's stages; each is a function `run_<stage>(ctx) -> StageOutput`."""
