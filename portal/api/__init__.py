"""The token API: the agency's own tools take live tokens out of Keepalive
with an API key, fall back to another healthy profile of a network, and
report tokens a network refused. Services here (`keys`, `queries`,
`tokens`), pure rules in `rules`, the routes and their OpenAPI document in
`views` and `spec`; keys are made in Settings → API keys (`portal.settings`)."""
