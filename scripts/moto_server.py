"""The local AWS emulator as the project runs it: moto's server (pinned in scripts/moto.sh),
with one change to what its ECS services report.

moto runs no tasks. Out of the box a service reports MOTO_ECS_SERVICE_RUNNING tasks whatever
it wants (0: a rollout never completes; 100: "100/1 running, -99 pending"), and the cluster's
task count drifts from the services'. Here a service's tasks start at once, as if Fargate were
instant: it runs exactly the tasks it wants, nothing is pending, its deployment is complete,
and the cluster counts what its services run. Everything else is moto as released.

    python scripts/moto_server.py -H 127.0.0.1 -p 5055
"""

import sys

from moto.ecs import models
from moto.server import main

_service_init = models.Service.__init__
_update_service = models.EC2ContainerServiceBackend.update_service


def _runs_what_it_wants(service):
    """Tasks start at once: running = desired, none pending, the rollout complete."""
    service.running_count = service.desired_count
    service.pending_count = 0
    for deployment in service.deployments:
        deployment["desiredCount"] = service.desired_count
        deployment["runningCount"] = service.desired_count
        deployment["pendingCount"] = 0
        deployment["rolloutState"] = "COMPLETED"
        deployment["rolloutStateReason"] = (
            f"ECS deployment {deployment['id']} completed."
        )


def _service_init_running(self, *args, **kwargs):
    _service_init(self, *args, **kwargs)
    _runs_what_it_wants(self)


def _update_service_running(self, service_properties):
    service = _update_service(self, service_properties)
    cluster = self._get_cluster(service.cluster_arn)
    # moto took the service's old tasks off the cluster and added the new desired count (or
    # nothing, when the count did not change): count what the service runs now.
    counted = sum(
        s.running_count
        for s in self.services.values()
        if s.cluster_arn == service.cluster_arn and s.status != "INACTIVE" and s is not service
    )
    _runs_what_it_wants(service)
    cluster.running_tasks_count = counted + service.running_count
    cluster.pending_tasks_count = 0
    return service


models.Service.__init__ = _service_init_running
models.EC2ContainerServiceBackend.update_service = _update_service_running

if __name__ == "__main__":
    sys.exit(main())
