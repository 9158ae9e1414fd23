"""The framework's ceiling: a bare FastAPI hello world, served as Signet is.

`uvicorn tests.bench.ping:app`
"""

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"ping": "pong"}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
