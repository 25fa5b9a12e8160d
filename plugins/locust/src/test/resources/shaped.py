from locust import HttpUser, LoadTestShape, constant, task


class Shopper(HttpUser):
    wait_time = constant(0.05)

    @task
    def products(self):
        self.client.get("/products", name="products")


class Steady(LoadTestShape):
    """5 users for 3 s: the whole run's, whatever the number of generators."""

    def tick(self):
        return (5, 5) if self.get_run_time() < 3 else None
