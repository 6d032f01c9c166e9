"""The marketplace's fixed category tree.

Two levels: a department (``fashion``) and its categories (``fashion/shoes``). Products
are filed under a leaf; browsing a department includes all of its categories. Each node
carries a VAT class, the key by which a later tax table (rate per country and class)
decides the rate: most goods are ``standard``, while food, books, children's clothing and
medical aids are reduced or zero-rated in many countries. A child inherits its
department's class unless it names its own.

Pure Python on purpose: request schemas validate slugs against it at cold start. In core
because it is the marketplace's shared vocabulary, like currencies: the catalog files
products under it, buyers state preferred categories (accounts), tax rates follow its VAT
classes (orders).
"""

from __future__ import annotations

from dataclasses import dataclass

VAT_CLASSES: dict[str, str] = {
    "standard": "Standard rate.",
    "food": "Food and non-alcoholic drinks (reduced rate in most EU countries).",
    "books": "Printed books and e-books (reduced rate in most EU countries).",
    "children_clothing": "Children's clothing and shoes (zero-rated in the UK and Ireland).",
    "medical": "Medical aids (reduced rate in many countries).",
}


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    vat_class: str
    parent: str | None = None
    children: tuple[str, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children


# department slug -> (name, VAT class, [(child slug, name, VAT class or None to inherit)])
_TREE: dict[str, tuple[str, str, list[tuple[str, str, str | None]]]] = {
    "fashion": ("Fashion", "standard", [
        ("shoes", "Shoes", None),
        ("clothing", "Clothing", None),
        ("kids", "Children's clothing", "children_clothing"),
        ("accessories", "Bags & accessories", None),
    ]),
    "electronics": ("Electronics", "standard", [
        ("phones", "Phones", None),
        ("computers", "Computers", None),
        ("audio", "Audio & hi-fi", None),
    ]),
    "home": ("Home & living", "standard", [
        ("furniture", "Furniture", None),
        ("kitchen", "Kitchen", None),
        ("decor", "Decoration", None),
    ]),
    "books": ("Books", "books", [
        ("fiction", "Fiction", None),
        ("non-fiction", "Non-fiction", None),
        ("children", "Children's books", None),
    ]),
    "food": ("Food & drink", "food", [
        ("groceries", "Groceries", None),
        ("beverages", "Coffee, tea & soft drinks", None),
        ("wine-spirits", "Wine & spirits", "standard"),
    ]),
    "health": ("Health & beauty", "standard", [
        ("beauty", "Beauty & care", None),
        ("medical-aids", "Medical aids", "medical"),
    ]),
    "sports": ("Sports & outdoors", "standard", [
        ("fitness", "Fitness", None),
        ("outdoor", "Outdoor & camping", None),
        ("bikes", "Bikes", None),
    ]),
    "toys": ("Toys & games", "standard", [
        ("games", "Games & puzzles", None),
        ("baby", "Baby & toddler toys", None),
    ]),
}


def _build() -> dict[str, Category]:
    nodes: dict[str, Category] = {}
    for slug, (name, vat_class, children) in _TREE.items():
        child_slugs = tuple(f"{slug}/{child}" for child, _, _ in children)
        nodes[slug] = Category(slug=slug, name=name, vat_class=vat_class, children=child_slugs)
        for (_, child_name, child_vat), child_slug in zip(children, child_slugs, strict=True):
            nodes[child_slug] = Category(slug=child_slug, name=child_name, vat_class=child_vat or vat_class,
                                         parent=slug)
    return nodes


CATEGORIES: dict[str, Category] = _build()
DEPARTMENTS: tuple[str, ...] = tuple(_TREE)


def category(slug: str) -> Category:
    """The node for ``slug``; KeyError if the tree has no such node."""
    return CATEGORIES[slug]


def leaf_problem(slug: str) -> str | None:
    """Why ``slug`` cannot hold products (None when it can)."""
    node = CATEGORIES.get(slug)
    if node is None:
        return f"unknown category {slug!r}; GET /v1/categories lists them"
    if not node.is_leaf:
        return f"{slug!r} is a department; file the product under one of {', '.join(node.children)}"
    return None


def lineage(slug: str) -> list[str]:
    """The slugs a product in ``slug`` is browsable under: its department, then itself."""
    node = CATEGORIES[slug]
    return [node.parent, slug] if node.parent else [slug]
