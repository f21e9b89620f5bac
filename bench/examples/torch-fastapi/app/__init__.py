"""A small model server: a FastAPI app that scores a batch with a torch model."""
