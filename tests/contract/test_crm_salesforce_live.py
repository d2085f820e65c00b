"""Against a real Salesforce org: runs only when its credentials are in the environment.

Set ORDERDESK_SALESFORCE_LIVE=1 with ORDERDESK_SALESFORCE_USERNAME, _PASSWORD,
_SECURITY_TOKEN (and _DOMAIN=test for a sandbox org), in an org with the custom object
described in orderdesk.crm.adapters.salesforce.
"""

import os

import pytest

from orderdesk.crm.delivery import crm_message_send

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        os.environ.get("ORDERDESK_SALESFORCE_LIVE") != "1"
        or not os.environ.get("ORDERDESK_SALESFORCE_USERNAME"),
        reason="no live Salesforce credentials in the environment",
    ),
]


def test_a_replacement_reaches_the_real_org(replaced_message, settings):
    settings.ORDERDESK_CRM = "salesforce"
    for name in ("USERNAME", "PASSWORD", "SECURITY_TOKEN", "DOMAIN", "API_VERSION"):
        if os.environ.get(f"ORDERDESK_SALESFORCE_{name}"):
            setattr(
                settings, f"ORDERDESK_SALESFORCE_{name}", os.environ[f"ORDERDESK_SALESFORCE_{name}"]
            )
    assert crm_message_send(replaced_message.pk) == "delivered"
