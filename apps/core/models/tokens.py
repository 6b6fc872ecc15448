"""Access tokens revoked one by one (logout), kept until they would have expired anyway."""

from typing import Any, ClassVar

from django.db import models

from apps.core.models.base import BaseModel


class RevokedAccessToken(BaseModel):
    """One revoked access token, by its `jti`; the shared cache only fronts this table, so a
    Redis restart revives nothing (apps.core.platform.revocation)."""

    jti = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta(BaseModel.Meta):
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["jti"], name="core_revokedaccesstoken_jti_unique"),
        ]

    def __str__(self) -> str:
        """The token's id."""
        return self.jti
