"""The PBX decision API (SPEC §9), built with django-ninja: see docs/api.md."""
