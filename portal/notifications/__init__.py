"""Notifications: who hears about a token, when and on which channel.

The rules, events, messages, the outbox, web push keys, preferences and the
sign-in warning are services here, which the scan and the delivery jobs use
too; the pages (the header bell, the warning after sign-in, browsers
subscribed to web push, the organization's Slack and webhooks) are in
`views` (`portal.notifications.views.bp`).
"""
