"""The add form and the bulk Enable under concurrency, through the pages (PostgreSQL)."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from callerids.models import AuthorizedCallerID, CallerIDStatus, License
from callerids.selectors import get_license
from callerids.services.callerids import disable_callerids
from tenancy.audit import SYSTEM
from tests.callerids.pages_support import add
from tests.callerids.test_add_form import form_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


def post_in_parallel(user, url, payloads) -> list[int]:
    def run(data):
        try:
            client = Client()
            client.force_login(user)
            return client.post(url, data).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, payloads))


def test_one_form_sent_ten_times_at_once_adds_once(reseller_a_user, extension_a):
    get_license()
    data = form_data({"number": "1234"}, {"number": "5678"}, key=uuid.uuid4())
    url = reverse("callerids:add", args=[extension_a.pk])
    codes = post_in_parallel(reseller_a_user, url, [data] * THREADS)
    assert codes == [302] * THREADS
    assert AuthorizedCallerID.objects.filter(extension=extension_a).count() == 2
    assert get_license().active_callerids == 2


def test_ten_forms_at_once_never_pass_the_license(reseller_a_user, extension_a):
    get_license()
    License.objects.filter(pk=1).update(max_active_callerids=5)
    url = reverse("callerids:add", args=[extension_a.pk])
    payloads = [form_data({"number": str(1000 + i)}) for i in range(THREADS)]
    post_in_parallel(reseller_a_user, url, payloads)
    enabled = AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED).count()
    assert enabled == 5 == get_license().active_callerids


def test_bulk_enables_at_once_stay_all_or_none(reseller_a_user, extension_a):
    callerids = add(extension_a, *[str(2000 + i) for i in range(10)])
    disable_callerids(actor=SYSTEM, ids=[c.pk for c in callerids])
    License.objects.filter(pk=1).update(max_active_callerids=4)
    url = reverse("callerids:bulk", args=[extension_a.pk])
    payloads = [
        {"action": "enable", "ids": [c.pk for c in callerids[i : i + 3]]} for i in (0, 3, 6)
    ] * 3
    post_in_parallel(reseller_a_user, url, payloads)
    enabled = AuthorizedCallerID.objects.filter(status=CallerIDStatus.ENABLED).count()
    assert enabled == 3 == get_license().active_callerids  # one batch of 3 fits, not two
