"""The activity log: what every event code says (`vocabulary`) and the log as
a person may read it, filtered and paged in the database (`log`). Events are
written by `portal.audit`."""
