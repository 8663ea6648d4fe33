"""The REST API under /api/v1/: token authentication, idempotent POSTs, and
serializers and views that hand every change to the apps' service functions."""
