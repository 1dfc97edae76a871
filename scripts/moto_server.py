"""The local AWS emulator as the project runs it: moto's server (pinned in scripts/moto.sh),
with the changes below, each where moto answers otherwise than AWS would (and one opt-in wait
for benchmarks).

Each request shapes its own answer. moto keeps a response's "include this part" switch (ECS's
`include=TAGS` on DescribeServices and DescribeClusters) in one dict shared by every request
thread, so a DescribeServices without tags running beside one with them can strip the tags
from the other's answer: a service looked up by its tags then seems not to be the stack's.
Here each request gets its own copy of the dict.

moto runs no tasks. Out of the box a service reports MOTO_ECS_SERVICE_RUNNING tasks whatever
it wants (0: a rollout never completes; 100: "100/1 running, -99 pending"), and the cluster's
task count drifts from the services'. Here a service's tasks start at once, as if Fargate were
instant: it runs exactly the tasks it wants, nothing is pending, its deployment is complete,
and the cluster counts what its services run.

With IAM enforced (INITIAL_NO_AUTH_ACTION_COUNT), two gaps of moto's checks are closed so that
a policy written for AWS is judged as AWS would judge its actions: CloudWatch signs its
requests as "monitoring" and the Resource Groups Tagging API as "tagging", while their actions
are "cloudwatch:..." and "tag:..." in IAM, as in AWS; SQS's batch calls are allowed by the
action of one message (SendMessageBatch by sqs:SendMessage, and so on), as in AWS, where no
batch action exists; and moto
names the resource of a request only for SQS queues and IAM roles that exist ("*" for the
rest), so a statement's Resource is compared with what moto names and holds where moto names
nothing. Conditions are not evaluated (moto's own limit). And the signature is not checked:
moto computes it again from the parsed form of a request, which differs from the bytes sent
for some characters (a policy document, a description with a colon), so good requests fail
with SignatureDoesNotMatch; the access key still names the caller.

DynamoDB's conditional writes are atomic, as in AWS. moto checks a write's condition and then
writes, and two request threads can both pass the check in between: two runs could both take
the stack lock. Here each write to an item (put, update, delete) runs alone.

ACM validates a certificate by DNS as AWS does: moto issues any certificate it was asked for
MOTO_ACM_VALIDATION_WAIT seconds after the request, records or not, so a tool that never
wrote its validation records would pass. Here a pending certificate is issued only once every
one of its names has its validation CNAME, with the value ACM gave, in a public hosted zone of
the same account; the wait defaults to none here.

SQS delivers a standard queue's messages as fair queues do (AWS's "How Amazon SQS fair queues
work"): moto hands them out in the order they came, so one client's thousand parts would keep
another's one part waiting behind them. Here a message group (the tenant) is noisy when its
share of the queue's recent processing time (in flight, and done in the last five minutes) is
over 10 %, or it holds over 10 % of the messages in flight and at least 30 of them; visible
messages of quiet groups (and those without a group, each its own) go first, in the order they
came, then the noisy groups', fewest in flight first. FIFO queues are as moto has them.

A message is handed to one receive at a time, as SQS all but always does: moto checks that a
message is visible and then marks it received, and two receives running at once could both
pass the check and both get it (seen as a message received twice in a suite run). Here the
receives take turns, and a long poll waits outside its turn.

S3 reads only the bytes a ranged GET asks for: moto reads the whole object for each one and
then slices it, so each 16 MiB range of a 1 GB object took 0.3 s and held the emulator's
other requests behind it; S3 answers a range in time for its length. Anything not answered
with the range (a 304, several ranges, a range S3 ignores) gets the whole object as before.

EMULATOR_LATENCY_MS (unset or 0 by default, as every test runs it) makes each request wait
that long before it is served, as a call to AWS in the same region takes tens of
milliseconds however little it asks; the wait holds no lock, so it costs the emulator no
work. The AWS-path job bench uses it to show what the app's own round trips cost.

Everything else is moto as released.

    python scripts/moto_server.py -H 127.0.0.1 -p 5055
"""

import os
import sys
import threading
import time
from collections import Counter

# Read by moto's settings as it is imported.
os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", "0")

from moto.acm import models as acm_models
from moto.core.responses import BaseResponse
from moto.dynamodb.models import DynamoDBBackend
from moto.ecs import models
from moto.iam import access_control
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.route53.models import route53_backends
from moto.s3 import models as s3_models
from moto.s3.responses import S3Response
from moto.sqs import models as sqs_models
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


def _own_transformers(self):
    """The request's own copy of the class-wide dict, made on first change."""
    if "RESPONSE_KEY_PATH_TO_TRANSFORMER" not in self.__dict__:
        self.RESPONSE_KEY_PATH_TO_TRANSFORMER = dict(type(self).RESPONSE_KEY_PATH_TO_TRANSFORMER)
    return self.RESPONSE_KEY_PATH_TO_TRANSFORMER


_include = BaseResponse._include_in_response
_exclude = BaseResponse._exclude_from_response


def _include_in_response(self, response_key_path):
    _own_transformers(self)
    _include(self, response_key_path)


def _exclude_from_response(self, response_key_path):
    _own_transformers(self)
    _exclude(self, response_key_path)


# Services whose signing name is not their prefix in IAM.
_IAM_PREFIX = {"monitoring": "cloudwatch", "tagging": "tag"}
# Batch calls AWS authorizes as their one-message action.
_IAM_ACTION = {
    "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
_request_init = access_control.IAMRequestBase.__init__
_element_matches = access_control.IAMPolicyStatement._check_element_matches


def _request_init_named_as_iam(self, *args, **kwargs):
    _request_init(self, *args, **kwargs)
    service, _, operation = self._action.partition(":")
    action = f"{_IAM_PREFIX.get(service, service)}:{operation}"
    self._action = _IAM_ACTION.get(action, action)


def _element_matches_where_named(self, statement_element, value):
    if statement_element == "Resource" and value == "*":
        return True
    return _element_matches(self, statement_element, value)


_check_certificate = acm_models.CertBundle.check


def _dns_name(name):
    return name.rstrip(".").lower()


def _validated_by_dns(cert):
    """Every name's validation CNAME is in a public zone of the certificate's account."""
    account = cert.arn.split(":")[4]
    zones = [
        z
        for z in route53_backends[account]["aws"].zones.values()
        if not z.private_zone
    ]
    options = cert.describe()["Certificate"].get("DomainValidationOptions", [])
    for option in options:
        wanted = option["ResourceRecord"]
        held = any(
            _dns_name(r.name) == _dns_name(wanted["Name"])
            and r.type == "CNAME"
            and any(_dns_name(v) == _dns_name(wanted["Value"]) for v in r.records)
            for z in zones
            for r in z.rrsets
        )
        if not held:
            return False
    return True


def _check_with_records(self):
    if self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION":
        if not _validated_by_dns(self):
            return
    _check_certificate(self)


_FAIR_WINDOW = 300.0
_queue_messages = sqs_models.Queue.messages
_queue_delete = sqs_models.Queue.delete_message
_mark_received = sqs_models.Message.mark_received


def _mark_received_timed(self, visibility_timeout=None):
    _mark_received(self, visibility_timeout)
    self.fair_received_at = time.monotonic()


def _delete_timed(self, receipt_handle):
    now = time.monotonic()
    for message in self._messages:
        if message.had_receipt_handle(receipt_handle) and message.group_id:
            took = now - getattr(message, "fair_received_at", now)
            self.__dict__.setdefault("fair_done", []).append((now, message.group_id, took))
            break
    _queue_delete(self, receipt_handle)


_receive = sqs_models.SQSBackend.receive_message
_receiving = threading.Lock()


def _receive_in_turn(
    self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None
):
    queue = self.get_queue(queue_name)
    end = time.monotonic() + wait_seconds_timeout
    while True:
        with _receiving:
            got = _receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
        left = end - time.monotonic()
        if got or left <= 0:
            return got
        if queue.messages:
            # Visible but not to be handed out (a FIFO group in flight): look again soon.
            time.sleep(min(left, 0.01))
        else:
            queue.wait_for_messages(min(left, 1))


def _tenants(queue):
    """Each group's recent processing time and its messages in flight."""
    now = time.monotonic()
    done = queue.__dict__.setdefault("fair_done", [])
    done[:] = [d for d in done if now - d[0] < _FAIR_WINDOW]
    share, in_flight = Counter(), Counter()
    for _, group, took in done:
        share[group] += took
    for message in queue._messages:
        if message.group_id and not message.visible and hasattr(message, "fair_received_at"):
            share[message.group_id] += now - message.fair_received_at
            in_flight[message.group_id] += 1
    return share, in_flight


def _fair_messages(self):
    visible = _queue_messages.fget(self)
    if self.fifo_queue or len(visible) < 2:
        return visible
    share, in_flight = _tenants(self)
    total, flying = sum(share.values()), sum(in_flight.values())

    def noisy(group):
        if not group:
            return False
        by_time = total > 0 and share[group] / total > 0.1
        by_count = in_flight[group] >= 30 and in_flight[group] / flying > 0.1
        return by_time or by_count

    # sorted() keeps arrival order among equals.
    return sorted(
        visible,
        key=lambda m: (1, in_flight[m.group_id]) if noisy(m.group_id) else (0, 0),
    )


_ranged = threading.local()
_key_value = s3_models.FakeKey.value
_key_response = S3Response.key_response


class _Bytes:
    """An object's bytes, read only where sliced."""

    def __init__(self, key):
        self.key = key

    def __len__(self):
        return self.key.size

    def __getitem__(self, part):
        start, stop, _ = part.indices(len(self))
        with self.key.lock:
            self.key._value_buffer.seek(start)
            return self.key._value_buffer.read(max(0, stop - start))


def _value_where_sliced(self):
    if getattr(_ranged, "get", False):
        return _Bytes(self)
    return _key_value.fget(self)


def _key_response_ranged(self, request, full_url, headers):
    _ranged.get = request.method == "GET" and bool(request.headers.get("range"))
    try:
        status, response_headers, body = _key_response(self, request, full_url, headers)
    finally:
        _ranged.get = False
    if isinstance(body, _Bytes):
        body = body[:]
    return status, response_headers, body


_item_writes = threading.Lock()


def _alone(write):
    def written_alone(self, *args, **kwargs):
        with _item_writes:
            return write(self, *args, **kwargs)

    return written_alone


for _write in ("put_item", "update_item", "delete_item"):
    setattr(DynamoDBBackend, _write, _alone(getattr(DynamoDBBackend, _write)))

acm_models.CertBundle.check = _check_with_records
sqs_models.Message.mark_received = _mark_received_timed
sqs_models.Queue.delete_message = _delete_timed
sqs_models.Queue.messages = property(_fair_messages)
sqs_models.SQSBackend.receive_message = _receive_in_turn
s3_models.FakeKey.value = property(_value_where_sliced, _key_value.fset)
S3Response.key_response = _key_response_ranged
access_control.IAMRequestBase.__init__ = _request_init_named_as_iam
access_control.IAMRequestBase.check_signature = lambda self: None
access_control.IAMPolicyStatement._check_element_matches = _element_matches_where_named
BaseResponse._include_in_response = _include_in_response
BaseResponse._exclude_from_response = _exclude_from_response
models.Service.__init__ = _service_init_running
models.EC2ContainerServiceBackend.update_service = _update_service_running

LATENCY_S = float(os.environ.get("EMULATOR_LATENCY_MS") or 0) / 1000
_dispatch = DomainDispatcherApplication.__call__


def _after_a_round_trip(self, environ, start_response):
    time.sleep(LATENCY_S)
    return _dispatch(self, environ, start_response)


if LATENCY_S > 0:
    DomainDispatcherApplication.__call__ = _after_a_round_trip

if __name__ == "__main__":
    sys.exit(main())
