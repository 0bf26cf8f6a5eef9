"""The callback extensions list (SPEC §3)."""

import django_tables2 as tables

from callback.models import CallbackExtension


class ExtensionTable(tables.Table):
    number = tables.Column(
        verbose_name="Extension number",
        linkify=("callback:extension_detail", {"pk": tables.A("pk")}),
    )
    name = tables.Column()
    organization = tables.Column(
        verbose_name="Organization", accessor="organization__name", order_by="organization__name"
    )
    reseller = tables.Column(
        verbose_name="Reseller",
        accessor="organization__reseller__name",
        order_by="organization__reseller__name",
    )
    return_mode = tables.Column(verbose_name="Return calls")
    active = tables.BooleanColumn(yesno="Yes,No")
    created_at = tables.DateTimeColumn(verbose_name="Created", format="Y-m-d H:i")

    class Meta:
        model = CallbackExtension
        fields = [
            "number",
            "name",
            "organization",
            "reseller",
            "return_mode",
            "active",
            "created_at",
        ]
        order_by = "number"
        attrs = {"class": "table table-sm table-striped table-hover align-middle"}
        empty_text = "No callback extensions match."
