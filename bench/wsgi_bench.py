"""The benchmark's WSGI entry point: the product's app plus the baseline
routes (`gunicorn bench.wsgi_bench:app`)."""
from bench.baseline import bp
from portal import create_app

app = create_app()
app.register_blueprint(bp)
