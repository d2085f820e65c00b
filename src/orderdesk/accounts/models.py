from django.db import models


class Account(models.Model):
    """A customer. The e-commerce e-mail is where payment links are sent."""

    name = models.CharField(max_length=200)
    ecommerce_email = models.EmailField("e-commerce e-mail", db_index=True)
    phone = models.CharField(max_length=40, blank=True)
    crm_id = models.CharField("CRM id", max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.ecommerce_email}>"
