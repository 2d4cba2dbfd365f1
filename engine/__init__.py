"""The dashboard engine without a web framework: a request resolved once (resolve.py), admission
and the result cache, the orchestrator, plant data and reports, CSV writing; and the work behind
the other routes (line status, stop labels, filters, saved views, classes, external sources).

The FastAPI routes (app_fastapi/) are thin adapters around it: they validate the request,
call the engine and serialise its answer.
"""
