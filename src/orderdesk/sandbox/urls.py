from django.urls import path

from orderdesk.sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("tokens", views.tokens, name="tokens"),
    path("card-form.js", views.card_form_script, name="card-form-script"),
    path("authorizations", views.authorizations, name="authorizations"),
    path("paypal/<str:reference>/", views.paypal_approve, name="paypal-approve"),
]
