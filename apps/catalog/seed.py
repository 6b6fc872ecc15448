"""Demo catalog for `manage.py seed`: the roles' catalog grants, categories, products, banners.

The manager role may write every `catalog.*` feature, the customer role read them; the catalog
is a category tree, ~200 products with tags and three banners.
"""

import random
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.text import slugify

from apps.catalog.models import Banner, Category, Product, Tag
from apps.core.models.rbac import Role
from apps.core.rbac.services import role_features_grant

TREE = {
    "Groceries": ["Fruit", "Vegetables", "Bakery"],
    "Electronics": ["Phones", "Laptops", "Audio"],
    "Home": ["Kitchen", "Garden", "Lighting"],
}
TAGS = ["new", "sale", "organic", "bestseller", "eco"]
PRODUCTS_PER_LEAF = 22
FEATURE_PREFIX = "catalog."
# Role code -> write access (create, update, delete) besides read, on every catalog feature.
ROLE_GRANTS = {"manager": True, "customer": False}


def seed(*, command: BaseCommand) -> None:
    """Grant the default roles their catalog access, then build the demo catalog once."""
    for code, write in ROLE_GRANTS.items():
        role_features_grant(role=Role.objects.get(code=code), prefix=FEATURE_PREFIX, write=write)
    command.stdout.write(catalog_seed())


def catalog_seed() -> str:
    """Create the demo catalog once; a second run changes nothing."""
    if Product.objects.exists():
        return "Catalog already seeded."
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    tags = [Tag.objects.create(name=name) for name in TAGS]
    leaves = []
    for order, (root_name, children) in enumerate(TREE.items()):
        root = Category.objects.create(name=root_name, slug=slugify(root_name), sort_order=order)
        for child_order, child in enumerate(children):
            leaves.append(
                Category.objects.create(
                    name=child,
                    slug=slugify(f"{root_name}-{child}"),
                    parent=root,
                    sort_order=child_order,
                )
            )
    products = []
    for leaf_number, leaf in enumerate(leaves, start=1):
        for number in range(1, PRODUCTS_PER_LEAF + 1):
            name = f"{leaf.name} item {number}"
            products.append(
                Product(
                    category=leaf,
                    name=name,
                    slug=slugify(f"{leaf.slug}-{number}"),
                    sku=f"SKU-{leaf_number:02d}-{number:04d}",
                    description=f"{name}: a demo product.",
                    price=Decimal(rng.randint(199, 99_999)) / 100,
                    discount_percent=rng.choice([0, 0, 0, 5, 10, 25]),
                    stock=rng.choice([0, 3, 10, 50, 120]),
                    attributes={"color": rng.choice(["red", "green", "blue"])},
                )
            )
    Product.objects.bulk_create(products)
    through = Product.tags.through
    through.objects.bulk_create(
        [
            through(product_id=product.pk, tag_id=tag.pk)
            for product in products
            for tag in rng.sample(tags, k=rng.randint(0, 2))
        ]
    )
    now = timezone.now()
    for position, title in enumerate(["Summer sale", "New phones", "Garden week"]):
        Banner.objects.create(
            title=title,
            link="https://example.com/",
            position=position,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=30),
        )
    categories = len(leaves) + len(TREE)
    return f"Catalog seeded: {categories} categories, {len(products)} products, 3 banners."
