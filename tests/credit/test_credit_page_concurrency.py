"""The credit page under parallel submissions (PostgreSQL): a double click applies once, and
removals racing each other never take more than is left."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from credit.models import LedgerEntry
from tenancy.models import ChargingPreferences
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
THREADS = 10


@pytest.fixture
def callerid(extension_a):
    ChargingPreferences.objects.update_or_create(pk=1, defaults={"currency": "EUR", "decimals": 2})
    return factories.callerid(extension_a, "+40721000123", credit="5")


def post_in_parallel(user, path, forms):
    def post(data):
        try:
            client = Client()
            client.force_login(user)
            return client.post(path, data).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(post, forms))


def test_the_same_form_posted_at_once_is_applied_once(reseller_a_user, callerid):
    key = str(uuid.uuid4())
    path = reverse("credit:callerid_credit", args=[callerid.pk])
    form = {"amount": "10", "order_number": "", "one_time_key": key}
    statuses = post_in_parallel(reseller_a_user, path, [form] * THREADS)
    assert statuses == [302] * THREADS
    callerid.refresh_from_db()
    assert callerid.available == D("15")
    assert LedgerEntry.objects.filter(one_time_key=key).count() == 1


def test_parallel_removals_never_take_more_than_is_left(reseller_a_user, callerid):
    path = reverse("credit:callerid_credit", args=[callerid.pk])
    forms = [
        {"amount": "-1", "order_number": "", "one_time_key": str(uuid.uuid4())}
        for _ in range(THREADS)
    ]
    statuses = post_in_parallel(reseller_a_user, path, forms)
    assert sorted(statuses) == [200] * 5 + [302] * 5  # five refused: "At most 0.0000 ..."
    callerid.refresh_from_db()
    assert callerid.available == D("0")
    assert LedgerEntry.objects.filter(callerid=callerid).count() == 6
