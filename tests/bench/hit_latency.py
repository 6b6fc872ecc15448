"""Cache-hit latency of the public product list in one source tree.

`python tests/bench/hit_latency.py` with a source tree (this one, or an older commit's) as
working directory and on PYTHONPATH, DATABASE_URL naming a fresh database and REDIS_URL the
cache: migrates, creates 1,000 products (a category, 3 tags each) through the ORM, then
times `GET /api/v1/catalog/products/?page_size=20` answered from the cache and prints the
median microseconds per request as JSON. Only the ORM and the URL are used, so it runs on
commits from before issue 13 (tests/bench/test_cache_hit_bench.py compares them).
"""

import json
import logging
import statistics
import time
from decimal import Decimal

import django

PRODUCTS = 1000
URL = "/api/v1/catalog/products/?page_size=20"


def main() -> None:
    """Prepare, warm, time, print."""
    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from apps.catalog.models import Category, Product, Tag

    logging.getLogger().handlers = [logging.NullHandler()]
    call_command("migrate", verbosity=0)
    category = Category.objects.create(name="Bench", slug="bench")
    tags = [Tag.objects.create(name=f"tag {n}") for n in range(3)]
    for n in range(PRODUCTS):
        product = Product.objects.create(
            category=category, name=f"p{n}", slug=f"p-{n}", sku=f"S{n}", price=Decimal("10.00")
        )
        product.tags.set(tags)
    cache.clear()
    client = Client(HTTP_HOST="127.0.0.1")
    assert client.get(URL).status_code == 200
    assert client.get(URL)["X-Cache"] == "hit"
    for _ in range(100):
        client.get(URL)
    runs = []
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(300):
            client.get(URL)
        runs.append((time.perf_counter() - started) / 300 * 1e6)
    last = client.get(URL)
    assert last.status_code == 200 and last["X-Cache"] == "hit", last.status_code  # no 429s
    print(json.dumps({"hit_us": statistics.median(runs)}))  # noqa: T201 - the result


if __name__ == "__main__":
    main()
