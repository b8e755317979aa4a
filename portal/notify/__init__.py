"""Who hears about a token, when, and on which channel: pure rules over
models (see docs/design.md, "Notifications"). The scan job applies them."""
from portal.notify.rules import (  # noqa: F401
    CHANNELS,
    Notice,
    channels_for,
    delivery_key,
    due_notice,
    notification_key,
    preference_for,
    recipients,
)
