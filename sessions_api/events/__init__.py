"""Live events: what a caller's things and sessions do, pushed to its open streams.

``store`` keeps events (Redis Streams, so a reconnect replays what it missed) and
publishes them to every web process (Redis pub/sub); ``hub`` fans them out to the
streams of one process; ``stream`` writes one ``text/event-stream`` response;
``sessions`` announces session ends and key changes. Apps publish their own events on
their owner's channel with ``event_publish_quietly`` (``tasks_api`` publishes ``task``
events this way); the endpoint that serves streams composes them (see
``tasks_api.event_views``).
"""
