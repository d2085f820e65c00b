from django.urls import path

from orderdesk.dashboard import crm, export, terminal, views

app_name = "dashboard"
urlpatterns = [
    path("dashboard/", views.index, name="index"),
    path("dashboard/unpaid.csv", export.unpaid_csv, name="unpaid-csv"),
    path("dashboard/crm/", crm.crm_failures, name="crm"),
    path("dashboard/crm/<int:message_id>/retry", crm.crm_retry, name="crm-retry"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/assign", views.order_assign_me, name="order-assign"),
    path("orders/<str:number>/delivery-date", views.order_delivery_date, name="order-date"),
    path("orders/<str:number>/status", views.order_status, name="order-status"),
    path("orders/<str:number>/notes", views.order_note, name="order-note"),
    path("orders/<str:number>/card", views.order_process_card, name="order-card"),
    path("orders/<str:number>/card/intent", terminal.order_card_intent, name="order-card-intent"),
    path(
        "orders/<str:number>/external-payment",
        views.order_external_payment,
        name="order-external-payment",
    ),
    path("orders/<str:number>/ship", views.order_ship, name="order-ship"),
    path("orders/<str:number>/cancel", views.order_cancel, name="order-cancel"),
]
