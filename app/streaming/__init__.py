"""Real-time streaming connections: the per-process Redis subscriber (hub) and one client's open stream (session).
The publishing side and the stream rules live in app.services.streaming; the endpoints in app.api.v1.streaming."""
