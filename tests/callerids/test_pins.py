"""PIN hashing (SPEC §5.5): HMAC-SHA256 keyed with the pepper over salt and PIN."""

import hashlib
import hmac

from callerids.pins import check_pin, hash_pin


def test_a_pin_hash_is_the_hmac_of_salt_and_pin_keyed_with_the_pepper(settings):
    salt, digest = hash_pin("1234", "00ff")
    expected = hmac.new(settings.PIN_PEPPER.encode(), b"00ff:1234", hashlib.sha256).hexdigest()
    assert (salt, digest) == ("00ff", expected)
    assert check_pin("1234", *hash_pin("1234"))
