"""`/healthz`: is the database there, is Redis, are workers, when was the last scan
(`portal.health.views.bp`)."""
