from django.urls import path, re_path

from orderdesk.links import browser_views, staff, views

app_name = "links"
urlpatterns = [
    path("<str:token>", views.pay, name="pay"),
    path("<str:token>/decline", views.decline, name="decline"),
    path("<str:token>/paypal", views.paypal_start, name="paypal-start"),
    path("<str:token>/paypal/return", views.paypal_return, name="paypal-return"),
    path("<str:token>/done", views.done, name="done"),
    path("<str:token>/card/intent", browser_views.stripe_intent, name="card-intent"),
    path("<str:token>/paypal/order", browser_views.paypal_order, name="paypal-order"),
    # Any other address under /pay/ is a mangled link: the customer's neutral page, not staff's.
    re_path(r"", views.not_found, name="not-found"),
]

# Staff actions of the order screen, included at /orders/<number>/links/ (namespace links_staff).
staff_urlpatterns = (
    [
        path("reauthorize/", staff.reauthorize, name="reauthorize"),
        path("price-increase/", staff.price_increase, name="price-increase"),
        path("<int:link_id>/revoke/", staff.revoke, name="revoke"),
    ],
    "links_staff",
)
