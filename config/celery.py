"""The Celery application; settings come from Django's (the CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("config", task_cls="apps.core.platform.tasks:AppTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
