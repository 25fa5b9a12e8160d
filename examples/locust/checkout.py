"""The checkout journey of examples/checkout.json as a locustfile, against the demo shop: shoppers look at a page
of products three times as often as they buy (a cart, an item, the checkout). Runs as it is under Locust
(locust -f checkout.py --host http://127.0.0.1:8080) and under loadtest (examples/locust/checkout.json)."""
from locust import HttpUser, between, task


class Shopper(HttpUser):
    wait_time = between(0.05, 0.2)

    @task(3)
    def browse(self):
        self.client.get("/api/products?page=1", name="products")

    @task(1)
    def buy(self):
        cart = self.client.post("/api/carts", name="create cart")
        if cart.status_code != 201:
            return
        cart_id = cart.json()["id"]
        self.client.post(f"/api/carts/{cart_id}/items", json={"productId": "p-004", "quantity": 1},
                         name="add to cart")
        with self.client.post(f"/api/carts/{cart_id}/checkout", name="checkout", catch_response=True) as r:
            if r.status_code == 201 and r.json().get("status") != "CONFIRMED":
                r.failure("order not confirmed")
