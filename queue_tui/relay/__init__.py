"""Team mode (`queue-tui serve`): one upstream poller for many viewers, and `/metrics`.

- `state.py`: the relay's one poller, tracker and event-stream subscriber, what it
  answers from, and the replay buffer of the events it hands on;
- `metrics.py`: the Prometheus metrics (prometheus-client, its own registry);
- `app.py`: the Starlette app serving the hub's read API, `/api/events`, `/healthz`,
  `/metrics`; the viewer-token check; `serve` (uvicorn).

Layers: the relay uses `api` (`api/wire.py` shapes its answers like the hub's) and
`core`; never the UI, the CLI or the demo hub.
"""
