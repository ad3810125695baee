"""Blueprints, registered in one loop by create_app."""
from . import (
    admin,
    auth,
    checklists,
    clues,
    enforcement,
    health,
    ledgers,
    openapi,
    photos,
    places,
    pwa,
    records,
    reports,
    sync,
    workflow,
)

BLUEPRINTS = (health.bp, auth.bp, places.bp, checklists.bp, enforcement.bp, photos.bp, records.bp, sync.bp,
              admin.bp, openapi.bp, pwa.bp, workflow.bp, ledgers.bp, reports.bp, clues.bp)
