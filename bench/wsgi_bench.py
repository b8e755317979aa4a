"""The benchmark's WSGI entry point: the product's (`wsgi.py`) plus the
baseline routes (`gunicorn bench.wsgi_bench:app`)."""
from bench.baseline import bp
from wsgi import app

app.register_blueprint(bp)
