"""The pages: one product by interview, a catalog by upload, the worksheet by upload."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
