"""The recognition service's routes, one module per area."""

from fastapi import APIRouter

from passhub_recognition.api import activities, awards, exports, policies, progress, public

router = APIRouter()
for area in (policies, progress, awards, activities, exports, public):
    router.include_router(area.router)
