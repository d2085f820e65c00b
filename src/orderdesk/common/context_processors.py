from django.conf import settings


def business(request):
    return {
        "business_name": settings.ORDERDESK_BUSINESS_NAME,
        "support_email": settings.ORDERDESK_SUPPORT_EMAIL,
        "support_phone": settings.ORDERDESK_SUPPORT_PHONE,
    }
