"""`python -m tests.worker_fleet COUNT QUEUE REDIS_URL`: COUNT real RQ
workers of the portal's class (`jobs.worker.Worker`, which forks a process
per job; here with `PromptCommands`), each a process of its own listening
to QUEUE, named QUEUE-0, QUEUE-1, ...

They are forked from this process once it has built the app (from the
environment, as `rq worker` does) and loaded what the worker class loads
before its first fork: COUNT workers start for the CPU of one, where COUNT
`rq worker` processes would each import the portal and build the app again.
SIGTERM is passed on to every worker (each finishes its job, then stops);
this process ends once they all have."""
import os
import signal
import sys

from redis import Redis
from rq import Queue


# How often a worker's thread looks for a command such as "stop" (RQ's: 60 s).
COMMAND_POLL_SECONDS = 0.05


class PromptCommands:
    """An RQ worker whose thread waits for a command 50 ms at a time rather
    than 60 s: the end of a worker joins that thread for up to a second."""

    def subscribe(self):
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=COMMAND_POLL_SECONDS, daemon=True, exception_handler=self._pubsub_exception_handler)


def serve(name, queue_name, redis_url):
    """One worker, in a forked process: connections of its own."""
    from jobs import worker_app
    from jobs.worker import Worker

    class FleetWorker(PromptCommands, Worker):
        pass

    worker_app().extensions["keepalive.engine"].dispose(close=False)
    connection = Redis.from_url(redis_url)
    worker = FleetWorker([Queue(queue_name, connection=connection)], connection=connection, name=name)
    worker.work(logging_level="WARNING")


def main(count, queue_name, redis_url):
    from jobs.worker import load_before_forking

    load_before_forking()
    children = []

    def pass_on(signum, frame):
        for child in children:
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, pass_on)
    signal.signal(signal.SIGINT, pass_on)
    for n in range(count):
        child = os.fork()
        if child == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the worker installs its own
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 1
            try:
                serve(f"{queue_name}-{n}", queue_name, redis_url)
                code = 0
            finally:
                os._exit(code)
        children.append(child)
    failed = 0
    for child in children:
        _, status = os.waitpid(child, 0)
        failed += os.waitstatus_to_exitcode(status) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
