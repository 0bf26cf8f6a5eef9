"""What the PBX API keeps: the provisioning writes' idempotency keys."""

from django.db import models

from tenancy.models import ApiToken


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a token sent with a write of the provisioning API (SPEC §13),
    with the request's fingerprint and the answer, so the same request sent again gets
    the same answer and changes nothing. Written in the same transaction as the write;
    the unique constraint makes a concurrent request with the same key wait for it."""

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is a conflict.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "key"], name="idempotency_key_unique_per_token"
            )
        ]

    def __str__(self) -> str:
        return self.key
