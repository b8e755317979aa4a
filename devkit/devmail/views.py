import re

from flask import abort, current_app
from markupsafe import Markup, escape

from devkit.devmail import bp
from devkit.mailcapture import list_messages, read_message
from portal.web import render

URL = re.compile(r"https?://[^\s<>\"']+")


def linkify(text):
    """Plain text with its web addresses made clickable (escaped first)."""
    escaped = str(escape(text))
    return Markup(URL.sub(lambda m: f'<a href="{m.group(0)}" rel="noopener" target="_blank">{m.group(0)}</a>', escaped))


def framed(html):
    """The HTML part as the sandboxed frame shows it: links open in a new tab
    (the frame itself may not navigate or run scripts)."""
    return '<base target="_blank">' + html


@bp.route("/")
def index():
    messages = list_messages(current_app.config["DEV_MAIL_DIR"])
    return render("devmail/index.html", block="messages", messages=messages)


@bp.route("/<message_id>")
def show(message_id):
    message = read_message(current_app.config["DEV_MAIL_DIR"], message_id)
    if message is None:
        abort(404)
    return render(
        "devmail/message.html",
        message=message,
        text=linkify(message.text) if message.text is not None else None,
        srcdoc=framed(message.html) if message.html is not None else None,
    )
