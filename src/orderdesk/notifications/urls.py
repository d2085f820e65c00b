from django.urls import path

from orderdesk.notifications import views

app_name = "notifications"
urlpatterns = [
    path("emails/", views.email_list, name="email-list"),
    path("emails/<int:pk>/", views.email_detail, name="email-detail"),
    path("emails/<int:pk>/html", views.email_html, name="email-html"),
]
