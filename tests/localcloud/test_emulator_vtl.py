"""API Gateway mapping templates rendered by localcloud.emulator.vtl (no emulator needed)."""

from __future__ import annotations

import json

import pytest

from localcloud.emulator import vtl

ORDER = {"note": 'it\'s a "flat" white \\ café ☕ </b>', "drinks": ["Latte", {"size": "L"}], "open": True}


def render(template: str, body=ORDER, **kwargs) -> str:
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return vtl.render(template, body=text, **kwargs).text


# --- $input -----------------------------------------------------------------------------------------


def test_input_json_gives_json_text_and_a_string_keeps_its_quotes():
    assert render("$input.json('$.note')") == json.dumps(ORDER["note"], ensure_ascii=False)
    assert json.loads(render("$input.json('$.drinks')")) == ORDER["drinks"]
    assert render("$input.json('$.open') $input.json('$.missing')") == "true null"
    assert json.loads(render("$input.json('$')")) == ORDER


def test_input_path_gives_objects_whose_text_is_json_not_a_python_repr():
    assert render("$input.path('$.note')") == ORDER["note"]
    assert render("$input.path('$.drinks')") == '["Latte",{"size":"L"}]'
    assert render("$input.path('$.drinks[1]')") == '{"size":"L"}'
    assert render("$input.path('$.drinks').size() $input.path('$.drinks[1].size')") == "2 L"
    assert render("[$input.path('$.missing')]") == "[]"
    assert render("$input.path('$.drinks[*]').size()") == "2"  # an indefinite path gives a list


def test_input_params_look_in_path_then_query_string_then_header():
    params = {
        "path": {"id": "from-path"},
        "querystring": {"id": "from-query", "state": "open"},
        "header": {"X-Shop": "corner", "State": "from-header"},
    }
    template = "$input.params('id') $input.params('state') $input.params('x-shop') [$input.params('none')]"

    assert render(template, params=params) == "from-path open corner []"
    assert json.loads(render("$input.params()", params=params))["querystring"] == params["querystring"]
    assert (
        render("#foreach($kind in $input.params().keySet())$kind #end", params=params)
        == "path querystring header "
    )


def test_input_body_is_the_raw_payload_and_an_empty_one_is_an_empty_object():
    assert render("$input.body", body='{"a" : 1}') == '{"a" : 1}'
    assert render("$input.body", body="") == "{}"
    assert render("$input.json('$')", body="") == "{}"


# --- $util ------------------------------------------------------------------------------------------


def test_escape_javascript_escapes_like_java_including_the_single_quote():
    assert vtl.escape_javascript("it's") == "it\\'s"
    assert vtl.escape_javascript('say "hi" \\ a/b') == 'say \\"hi\\" \\\\ a\\/b'
    assert vtl.escape_javascript("é\n\t☕😀") == "\\u00E9\\n\\t\\u2615\\uD83D\\uDE00"
    assert vtl.escape_javascript(None) == ""


def test_escaped_body_with_apostrophes_undone_as_aws_documents_makes_valid_json():
    template = '{"input": "$util.escapeJavaScript($input.body).replaceAll("\\\\\'","\'")"}'

    rendered = json.loads(render(template))

    assert json.loads(rendered["input"]) == ORDER


# The workshop's order-manager PUT template (backends/5-order-manager/RestAPIs/api.yaml), but the ARN.
WORKSHOP_ORDER_PUT = """
#set($orderId = $input.params('id'))

#set($orderId = $input.params('id'))
#set($body = $util.escapeJavaScript($input.body).replaceAll("\\\\'","'"))
#set($action = $input.params('action')) 
#set($eventId = $input.params('eventId')) 
#set($baristaUserId = $context.authorizer.claims.sub) 
{
   "input": "{\\"action\\":\\"$action\\",\\"eventId\\":\\"$eventId\\",\\"body\\":$body,\\"orderId\\":\\"$orderId\\",\\"baristaUserId\\":\\"$baristaUserId\\"}",
    "stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:OrderManager"
}"""  # noqa: E501, W291 - as in the workshop


@pytest.mark.parametrize("body", [ORDER, {}, {"userId": "u'1", "drink": 'Café ☕ "x"'}, ""])
def test_workshop_order_manager_template_renders_valid_json_for_awkward_bodies(body):
    params = {"path": {"id": "42"}, "querystring": {"action": "make"}}
    context = {"authorizer": {"claims": {"sub": "barista-1"}}}

    rendered = json.loads(render(WORKSHOP_ORDER_PUT, body=body, params=params, context=context))

    execution_input = json.loads(rendered["input"])
    assert execution_input == {
        "action": "make",
        "eventId": "",
        "body": body or {},
        "orderId": "42",
        "baristaUserId": "barista-1",
    }


def test_util_parse_json_url_and_base64():
    template = (
        "$util.parseJson($input.path('$.doc')).a[1] $util.urlEncode('a b~*&é') $util.urlDecode('a+b%26') "
        "$util.base64Encode('café') $util.base64Decode('Y2Fmw6k=')"
    )

    assert render(template, body={"doc": '{"a": [1, 2]}'}) == "2 a+b%7E*%26%C3%A9 a b& Y2Fmw6k= café"


# --- $context, responseOverride, Java methods -------------------------------------------------------


CONTEXT = {
    "requestId": "req-1",
    "httpMethod": "GET",
    "resourcePath": "/orders/{id}",
    "path": "/Prod/orders/1",
    "stage": "Prod",
    "identity": {"sourceIp": "127.0.0.1"},
    "authorizer": {
        "claims": {"sub": "u-1", "cognito:groups": "admin", "scope": "openid", "token_use": "access"}
    },
}


def test_context_variables_and_claims_with_a_colon_in_their_name():
    template = (
        "$context.requestId $context.httpMethod $context.resourcePath $context.path $context.stage "
        "$context.identity.sourceIp $context.authorizer.claims.sub "
        "$context.authorizer.claims['cognito:groups'] $context.authorizer.claims.scope"
    )

    assert (
        render(template, context=CONTEXT)
        == "req-1 GET /orders/{id} /Prod/orders/1 Prod 127.0.0.1 u-1 admin openid"
    )
    assert (
        json.loads(render("$context.authorizer.claims", context=CONTEXT)) == CONTEXT["authorizer"]["claims"]
    )


def test_response_override_of_status_and_headers_is_reported():
    rendered = vtl.render(
        '#set($context.responseOverride.status = 403)#set($context.responseOverride.header.X-Why = "no")done'
    )

    assert (rendered.text, rendered.status_override, rendered.header_overrides) == (
        "done",
        403,
        {"X-Why": "no"},
    )
    assert vtl.render("#set($context.responseOverride.status = 42)").status_override is None
    assert vtl.render("unchanged").status_override is None


def test_java_string_methods_templates_use():
    template = (
        "#set($n = $input.params('maxItems'))"
        "#if($n.toString() != '')$n#{else}100#end "
        "$input.path('$.open').toString() ${input.path('$.note').length()} "
        "$input.params('id').replaceAll('(\\d+)-(\\d+)', '$2/$1') $input.params('id').indexOf('x') "
        "$input.params('id').matches('[0-9-]+') #if($input.params('id').equals('12-34'))same#end"
    )

    assert render(template, params={"querystring": {"id": "12-34"}}) == (
        f"100 true {len(ORDER['note'])} 34/12 -1 true same"
    )


def test_map_methods_and_iteration():
    template = (
        "#set($m = $input.path('$'))$m.size() $m.containsKey('open') "
        "#foreach($e in $m.entrySet())#if($e.key == 'open')$e.value#end#end "
        "#foreach($d in $m.drinks)$d#if($foreach.hasNext),#end#end"
    )

    assert render(template) == '3 true true Latte,{"size":"L"}'


def test_a_broken_template_raises():
    with pytest.raises(Exception, match="expected"):
        vtl.render("#if($x")
