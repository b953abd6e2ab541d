from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Every app that records events says how its things and fields read (see vocabulary.py): audit
        # learns it without importing any app above it.
        autodiscover_modules("audit_vocabulary")
