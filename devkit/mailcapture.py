"""A local SMTP server that keeps every message it receives as an .eml file,
and the reading side used by the `/dev/mail` pages (development only).

    python -m devkit.mailcapture [--port 1025] [--dir instance/mail]
"""
import argparse
import os
import re
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

# `<nanoseconds since the epoch>-<random hex>`: sorts by arrival, and is all a
# URL may name (no dots, no slashes).
MESSAGE_ID = re.compile(r"[0-9]{19}-[0-9a-f]{12}")


def new_message_id():
    return f"{time.time_ns():019d}-{uuid.uuid4().hex[:12]}"


def store(directory, content):
    """Write one raw message; the rename makes it appear whole or not at all."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    message_id = new_message_id()
    partial = directory / f".{message_id}.part"
    partial.write_bytes(content)
    partial.rename(directory / f"{message_id}.eml")
    return message_id


class CaptureHandler:
    """aiosmtpd handler: accept every recipient, keep every message."""

    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        store(self.directory, envelope.original_content or envelope.content)
        return "250 Message captured"


@dataclass(frozen=True)
class CapturedMessage:
    id: str
    to: str
    sender: str
    subject: str
    received_at: datetime
    headers: list
    text: str | None
    html: str | None


def _received_at(message_id):
    return datetime.fromtimestamp(int(message_id.split("-")[0]) / 1e9, timezone.utc)


def _parse(message_id, raw, with_body):
    message = BytesParser(policy=policy.default).parsebytes(raw, headersonly=not with_body)
    text = html = None
    if with_body:
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else None
        part = message.get_body(preferencelist=("html",))
        html = part.get_content() if part is not None else None
    return CapturedMessage(
        id=message_id,
        to=str(message["To"] or ""),
        sender=str(message["From"] or ""),
        subject=str(message["Subject"] or ""),
        received_at=_received_at(message_id),
        headers=[(name, str(value)) for name, value in message.items()],
        text=text,
        html=html,
    )


def message_path(directory, message_id):
    """The file of `message_id`, or None when the id is not one of ours."""
    if not isinstance(message_id, str) or not MESSAGE_ID.fullmatch(message_id):
        return None
    path = Path(directory) / f"{message_id}.eml"
    return path if path.is_file() else None


def list_messages(directory, limit=200):
    """The newest `limit` messages, newest first (headers only)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    ids = sorted(
        (path.stem for path in directory.glob("*.eml") if MESSAGE_ID.fullmatch(path.stem)),
        reverse=True,
    )[:limit]
    return [_parse(message_id, (directory / f"{message_id}.eml").read_bytes(), False) for message_id in ids]


def read_message(directory, message_id):
    """One message with its text and HTML parts, or None."""
    path = message_path(directory, message_id)
    if path is None:
        return None
    return _parse(message_id, path.read_bytes(), True)


def serve(directory, port, hostname="127.0.0.1"):
    """Run the SMTP server until SIGINT or SIGTERM."""
    from aiosmtpd.controller import Controller

    Path(directory).mkdir(parents=True, exist_ok=True)
    controller = Controller(CaptureHandler(directory), hostname=hostname, port=port)
    controller.start()
    print(f"Capturing mail on smtp://{hostname}:{port} into {directory}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        stop.wait()
    finally:
        controller.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Capture outgoing mail on loopback.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MAIL_PORT", "1025")))
    parser.add_argument("--dir", default=os.environ.get("DEV_MAIL_DIR") or os.path.join("instance", "mail"))
    args = parser.parse_args(argv)
    serve(args.dir, args.port)


if __name__ == "__main__":
    main()
