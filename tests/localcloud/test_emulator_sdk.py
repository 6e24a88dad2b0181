"""The shared request path (localcloud.emulator.sdk): sessions share botocore's parsed models, moto finds
handlers without listing every method again, and the collector runs less often."""

from __future__ import annotations

import gc

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
