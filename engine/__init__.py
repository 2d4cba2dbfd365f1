"""The dashboard engine without a web framework: admission, result cache, orchestrator, plant data.

The FastAPI routes (app_fastapi/) are thin adapters around it: they validate the request,
call the engine and serialise its answer.
"""
