"""Domain errors: ValidationError subclasses whose messages a user can act on."""

from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """A refused operation; views show str(messages) as a form error or a message."""


class LicenseExceeded(DomainError):
    """An operation would raise the active CallerID count past the server or reseller cap."""


class NotAllowed(DomainError):
    """The actor's role or reseller settings do not allow this (e.g. granting Unlimited)."""
