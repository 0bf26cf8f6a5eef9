"""Domain errors: ValidationError subclasses whose messages a user can act on."""

from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """A refused operation; views show its messages as a form error or a message.

    The error says which input it concerns: `DomainError(message, field="amount")`, or
    several fields at once with a dict (`DomainError({"name": ..., "role": ...})`); no field
    means the whole operation. panel.posting.add_refusal puts it on a form, the
    provisioning API under that field's name."""

    def __init__(self, message, code=None, params=None, *, field: str | None = None):
        super().__init__(message, code, params)
        self.field = field

    def by_field(self) -> dict[str | None, list[str]]:
        """The messages by the field they concern; None for the operation as a whole."""
        if hasattr(self, "error_dict"):
            return {
                name: ValidationError(errors).messages for name, errors in self.error_dict.items()
            }
        return {self.field: self.messages}


class LicenseExceeded(DomainError):
    """An operation would raise the active CallerID count past the server or reseller cap."""


class NotAllowed(DomainError):
    """The actor's role or reseller settings do not allow this (e.g. granting Unlimited)."""
