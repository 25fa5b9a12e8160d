from locust import HttpUser, constant, events, task

started = []


@events.test_start.add_listener
def on_start(environment, **kwargs):
    # the user's own event hooks still run beside the plug-in's listener
    started.append(True)


class Shopper(HttpUser):
    wait_time = constant(0.02)

    @task(3)
    def products(self):
        self.client.get("/products", name="products")

    @task(1)
    def cart(self):
        self.client.post("/cart", json={"sku": "p-1"}, name="cart")


class Idle(HttpUser):
    # not named in userClasses: never runs
    @task
    def nothing(self):
        self.client.get("/idle", name="idle")
