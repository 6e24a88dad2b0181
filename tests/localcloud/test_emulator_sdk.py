"""The shared request path (localcloud.emulator.sdk): sessions share botocore's parsed models, moto finds
handlers without listing every method again, and the collector runs less often. Under a mock, requests
keep the credential scope but skip the signature, clients keep their user agent, and moto keeps the
handler of each URL; without one, requests are signed in full."""

from __future__ import annotations

import gc
import re
import sys

import boto3

from localcloud.emulator import sdk


def test_clients_of_different_sessions_share_one_parsed_service_model(aws):
    first = boto3.session.Session(region_name="us-east-1").client("stepfunctions")
    second = boto3.session.Session(region_name="eu-west-1").client("stepfunctions")

    assert first.meta.service_model._service_description is second.meta.service_model._service_description
    assert sdk.shared_caches() >= 1


def test_moto_lists_a_response_class_methods_once_and_requests_still_dispatch(aws):
    from moto.core import responses
    from moto.sqs.responses import SQSResponse

    assert responses.method_names_from_class(SQSResponse) is responses.method_names_from_class(SQSResponse)
    client = boto3.client("sqs")
    url = client.create_queue(QueueName="dispatched")["QueueUrl"]
    assert client.get_queue_url(QueueName="dispatched")["QueueUrl"] == url


def test_the_collector_runs_less_often_once_the_emulator_is_installed(aws):
    assert gc.get_threshold() == sdk.GC_THRESHOLDS


def _sent_headers(client) -> list[dict[str, str]]:
    """The headers of every request `client` sends from now on, as moto (or the network) receives them."""
    sent: list[dict[str, str]] = []

    def keep(request, **_):
        sent.append(
            {
                key: value.decode() if isinstance(value, bytes) else value
                for key, value in request.headers.items()
            }
        )

    client.meta.events.register_first("before-send.*", keep)
    return sent


def test_a_mocked_call_carries_the_credential_scope_without_computing_a_signature(aws):
    client = boto3.client("sqs", region_name="eu-west-1")
    sent = _sent_headers(client)

    client.create_queue(QueueName="scoped")

    authorization = sent[0]["Authorization"]
    access_key = client._request_signer._credentials.access_key
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={access_key}/")
    assert "/eu-west-1/sqs/aws4_request" in authorization
    assert authorization.endswith("Signature=local")
    assert sent[0]["X-Amz-Date"].endswith("Z")


def test_moto_still_reads_the_account_of_the_access_key_it_was_issued_for(aws):
    # STS hands out keys moto maps to the assumed role's account; that mapping reads the credential scope.
    sts = boto3.client("sts")
    assumed = sts.assume_role(
        RoleArn="arn:aws:iam::210987654321:role/other", RoleSessionName="other-account"
    )["Credentials"]
    other = boto3.client(
        "sts",
        aws_access_key_id=assumed["AccessKeyId"],
        aws_secret_access_key=assumed["SecretAccessKey"],
        aws_session_token=assumed["SessionToken"],
    )

    assert other.get_caller_identity()["Account"] == "210987654321"
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_without_a_mock_requests_are_signed_in_full():
    from botocore.awsrequest import AWSResponse

    client = boto3.client("sqs", region_name="eu-west-1")
    sent = _sent_headers(client)

    class Raw:
        def stream(self, **_):
            yield b"{}"

    # Answer before the network is reached (moto is not active, so nobody else would).
    client.meta.events.register("before-send.*", lambda **_: AWSResponse("https://x", 200, {}, Raw()))

    client.list_queues()

    signature = sent[0]["Authorization"].rpartition("Signature=")[2]
    assert len(signature) == 64 and int(signature, 16) >= 0  # the hex HMAC-SHA256


def test_moto_routes_each_url_to_the_handler_its_own_lookup_finds(aws):
    import moto.backend_index as backend_index
    import moto.backends as backends

    urls = [
        "https://dynamodb.us-east-1.amazonaws.com/",
        "https://sqs.eu-west-1.amazonaws.com/",
        "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/f/invocations",
        "https://states.us-east-1.amazonaws.com/",
        "https://events.us-east-1.amazonaws.com/",
    ]
    for url in urls:
        service = next(name for name, pattern in backend_index.backend_url_patterns if pattern.match(url))
        backend = backends.get_backend(service)["123456789012"]["us-east-1"]
        expected = next(handler for pattern, handler in backend.urls.items() if re.match(pattern, url))
        assert sdk.route(url) == expected, url
    assert sdk.route("https://example.com/not-aws") is None


def test_a_client_builds_its_user_agent_once_and_anew_for_other_features(aws):
    from botocore import context
    from botocore.useragent import register_feature_id

    agent = boto3.client("sqs")._user_agent_creator
    plain = agent.to_string()
    assert agent.to_string() is plain
    with context.start_as_current_context():
        register_feature_id("WAITER")
        with_feature = agent.to_string()
    assert with_feature != plain


def test_what_one_emulator_session_created_is_gone_in_the_next():
    from moto.core.base_backend import BackendDict
    from moto.sqs.models import sqs_backends

    from localcloud import emulator

    with emulator.emulator():
        boto3.client("sqs").create_queue(QueueName="left-behind")
        boto3.client("sqs").get_queue_url(QueueName="left-behind")  # looked up again: the direct way
        assert sqs_backends in BackendDict._instances  # what moto resets when the mock ends
    with emulator.emulator():
        assert "QueueUrls" not in boto3.client("sqs").list_queues()
        assert sqs_backends in BackendDict._instances


def _serialized(service: str, operation: str, result: dict, original: bool = False) -> dict:
    from moto.core.serialize import AttributePicker, XFormedAttributePicker, get_serializer_class
    from moto.core.utils import get_service_model

    model = get_service_model(service)
    picker_class = XFormedAttributePicker
    if original:
        picker_class = type(
            "Original", (XFormedAttributePicker,), {"__call__": AttributePicker.__call__.__wrapped__}
        )
    serializer = get_serializer_class(service, model.protocol)(
        operation_model=model.operation_model(operation), value_picker=picker_class()
    )
    return serializer.serialize(result)


def test_moto_serializes_a_response_from_kept_member_names_exactly_as_it_did(aws):
    import datetime

    started = datetime.datetime(2026, 12, 3, 8, 0, tzinfo=datetime.UTC)
    cases = [
        (
            "dynamodb",
            "UpdateItem",
            {
                "Attributes": {
                    "PK": {"S": "orders"},
                    "n": {"N": "3"},
                    "tags": {"L": [{"S": "a"}, {"NULL": True}]},
                },
                "ConsumedCapacity": {"TableName": "orders", "CapacityUnits": 1.0},
            },
        ),
        # the key, its snake_case form or both: the key wins, as it did
        (
            "stepfunctions",
            "DescribeExecution",
            {
                "executionArn": "arn:a",
                "execution_arn": "arn:b",
                "state_machine_arn": "arn:m",
                "status": "RUNNING",
            },
        ),
        (
            "stepfunctions",
            "DescribeExecution",
            {"execution_arn": "arn:b", "startDate": started, "input": "{}"},
        ),
        # a member named after its structure answers to the short name too (InstanceId as Id)
        (
            "ec2",
            "DescribeInstances",
            {"Reservations": [{"Instances": [{"Id": "i-1", "InstanceType": "t3.micro"}]}]},
        ),
    ]
    for service, operation, result in cases:
        assert _serialized(service, operation, result) == _serialized(
            service, operation, result, original=True
        )
    assert sdk.kept_response_keys() > 0


def test_every_answer_carries_its_own_request_id_of_52_letters_and_digits(aws):
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    sts = boto3.client("sts", region_name="us-east-1")
    ids = [dynamodb.list_tables()["ResponseMetadata"]["RequestId"] for _ in range(3)]
    answer = sts.get_caller_identity()  # an XML answer: moto writes the id into the body too
    ids.append(answer["ResponseMetadata"]["RequestId"])

    assert all(re.fullmatch(r"[A-Za-z0-9]{52}", request_id) for request_id in ids), ids
    assert len(set(ids)) == len(ids)
    assert answer["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == ids[-1]


def test_names_converted_once_read_as_moto_converts_them_and_every_call_uses_the_kept_ones(aws):
    import botocore.session
    from moto.core import responses, utils
    from moto.sqs import models as sqs_models

    original = utils.camelcase_to_underscores.__wrapped__
    loader = botocore.session.get_session()
    names = ["", "A", "QueueArn", "ApproximateNumberOfMessagesNotVisible", "KMSMasterKeyId", "getItem"]
    for service in ("dynamodb", "sqs", "stepfunctions", "events", "lambda", "apigateway", "iot-data"):
        names += loader.get_service_model(service).operation_names
    names += sqs_models.Queue.BASE_ATTRIBUTES + sqs_models.Queue.FIFO_ATTRIBUTES
    assert [utils.camelcase_to_underscores(name) for name in names] == [original(name) for name in names]
    assert utils.camelcase_to_underscores("ApproximateNumberOfMessagesNotVisible") == (
        "approximate_number_of_messages_not_visible"
    )

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="converted")["QueueUrl"]
    before = utils.camelcase_to_underscores.cache_info().hits
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        == "2"
    )
    assert responses.camelcase_to_underscores is sqs_models.camelcase_to_underscores
    assert sqs_models.camelcase_to_underscores is utils.camelcase_to_underscores
    assert utils.camelcase_to_underscores.cache_info().hits > before


def _environ_as_seen(request) -> list:
    """A request's WSGI environ in order, its body read out, the error stream and the request left aside."""
    environ = dict(request.environ)
    body = environ.pop("wsgi.input").read()
    assert environ.pop("wsgi.errors") is sys.stderr
    assert environ.pop("werkzeug.request", request) is request
    return [*environ.items(), ("body", body), ("headers", list(request.headers.items()))]


EDGE_REQUESTS = [
    ("GET", "https://sqs.us-east-1.amazonaws.com/", {}, None),  # the URL of the SQS calls, another method
    (
        "POST",
        "https://sqs.us-east-1.amazonaws.com/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        b"",
    ),
    (
        "POST",
        "https://sqs.us-east-1.amazonaws.com/",
        {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        b"Action=ListQueues",
    ),
    (
        "GET",
        "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/configuration?Qualifier=%24LATEST",
        {},
        None,
    ),
    (
        "PUT",
        "https://example.execute-api.us-east-1.amazonaws.com/prod/orders/caf%C3%A9%20latte?x=1&x=2&y=",
        {"Content-Length": "0", "X-Amz-Meta-My_Key": "a", "Host": "other.example"},
        b"",
    ),
    (
        "POST",
        "https://dynamodb.us-east-1.amazonaws.com/",
        {"X-Amz-Target": "DynamoDB_20120810.GetItem", "x-amz-target": "again", "Content-Length": "12"},
        '{"a": "\u00e9"}',
    ),
    (
        "DELETE",
        "http://127.0.0.1:4566/path//double/",
        {"Content-Type": b"application/json", "Transfer-Encoding": "chunked"},
        b"{}",
    ),
]


def test_moto_gets_each_request_exactly_as_werkzeugs_builder_made_it_from_kept_url_parts(aws, monkeypatch):
    import json

    from moto.core.request import Request

    seen = []
    built = Request.from_primitives.__func__

    def recording(cls, method, url, headers, body=None):
        seen.append((method, url, dict(headers), body))
        return built(cls, method, url, headers, body)

    with monkeypatch.context() as patched:
        patched.setattr(Request, "from_primitives", classmethod(recording))
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="environ")["QueueUrl"]
        sqs.send_message(
            QueueUrl=url,
            MessageBody="caf\u00e9",
            MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}},
        )
        sqs.receive_message(QueueUrl=url)
        events = boto3.client("events", region_name="us-east-1")
        events.put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": json.dumps({"n": 1})}])
        boto3.client("cloudwatch", region_name="us-east-1").list_metrics(Namespace="N")
        boto3.client("sts", region_name="us-east-1").get_caller_identity()
        iot = boto3.client(
            "iot-data", region_name="us-east-1", endpoint_url="https://abc-ats.iot.us-east-1.amazonaws.com"
        )
        iot.publish(topic="orders/1", qos=1, payload=b'{"state": "COMPLETED"}')
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName="/aws/lambda/f")
        logs.describe_log_groups(logGroupNamePrefix="/aws/lambda")
        boto3.client("lambda", region_name="us-east-1").list_functions(MaxItems=5)

    assert len(seen) >= 10
    werkzeugs = Request.from_primitives.__wrapped__
    for method, url, headers, body in [*seen, *EDGE_REQUESTS]:
        expected = _environ_as_seen(werkzeugs(Request, method, url, headers, body))
        for _ in range(2):  # the first builds the URL's part, the second reuses it
            assert _environ_as_seen(Request.from_primitives(method, url, headers, body)) == expected, url

        def read(request):
            return request.path, request.raw_url, request.args, request.get_data(), request.form, request.url

        assert read(Request.from_primitives(method, url, headers, body)) == read(
            werkzeugs(Request, method, url, headers, body)
        )
    # An empty form werkzeug encodes itself (a fresh multipart boundary each time) is still its own.
    form = Request.from_primitives(
        "POST", "https://s3.us-east-1.amazonaws.com/b", {"Content-Type": "multipart/form-data"}
    )
    assert form.environ["CONTENT_TYPE"].startswith('multipart/form-data; boundary="')
