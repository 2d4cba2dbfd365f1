"""Admin API for the plant's products: list, add, edit (name, nominal weight, lines, active).

Products are never deleted here (detections carry their id): deactivate them instead. A changed
nominal weight marks the rollups holding the product (the loader's `apply_plant`).
"""

from __future__ import annotations

from app_fastapi.admin.plant_bodies import ProductBody
from app_fastapi.admin.plant_coded import CodedKind, coded_router
from core import schema_tenant as t
from ingest.plant_rows import product_rows

router = coded_router(CodedKind("products", "products", t.products, product_rows, ProductBody,
                                "producto", "un producto", "product"))
