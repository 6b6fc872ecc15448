"""`python -m tests.bench.stack.prepare N`: migrate the benchmark's database and give it N
public products, each with one category and 3 tags (run once, before the servers start)."""

import sys

import django


def main() -> None:
    """Migrate, then create the products unless they are there."""
    django.setup()
    from django.core.management import call_command

    from apps.catalog.models import Product
    from tests.catalog.factories import CategoryFactory, ProductFactory, TagFactory

    count = int(sys.argv[1])
    call_command("migrate", verbosity=0, interactive=False)
    if Product.objects.count() >= count:
        return
    category, tags = CategoryFactory(), [TagFactory() for _ in range(3)]
    for _ in range(count):
        ProductFactory(category=category).tags.set(tags)


if __name__ == "__main__":
    main()
