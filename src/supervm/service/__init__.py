"""The HTTP service: Starlette app, job store, dispatcher, world client, metrics, auth."""
