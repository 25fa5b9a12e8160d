"""The throughput benchmark's shape for Locust: users requesting / in a loop, no think."""
from locust import HttpUser, constant, task


class Loop(HttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/", name="get")
