"""Builds the app and scores one batch through its route handler, as a request would."""
import asyncio

import numpy as np
import torch
from fastapi import FastAPI
from pydantic import BaseModel

model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
model.eval()
app = FastAPI()


class Batch(BaseModel):
    rows: list[list[float]]


@app.post("/score")
async def score(batch: Batch) -> dict[str, list[float]]:
    with torch.no_grad():
        scores = model(torch.tensor(batch.rows, dtype=torch.float32)).squeeze(1)
    return {"scores": scores.tolist()}


def main() -> None:
    torch.manual_seed(0)
    rows = np.linspace(0, 1, 32, dtype=np.float32).reshape(4, 8).tolist()
    result = asyncio.run(score(Batch(rows=rows)))
    print(f"{len(result['scores'])} scores, routes: {len(app.routes)}")


if __name__ == "__main__":
    main()
