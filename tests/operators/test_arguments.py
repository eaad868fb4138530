"""Every fetching operator takes its endpoint's parameters as its arguments: one declaration, read by
Airflow (signature, ``default_args``, missing arguments, ``partial``/``expand``) and the engine alike.
The runs through real HTTP are in the vendor modules (``default_args`` in test_vonage.py)."""

from __future__ import annotations

import inspect

import pytest
from airflow.exceptions import AirflowException

from airflow_provider_wa_analytics.registry import CASES

EMPTY = inspect.Parameter.empty


@pytest.mark.parametrize("case", CASES, ids=str)
def test_the_signature_is_the_endpoint_parameters_and_the_connection_id(case):
    operator = case.operator
    signature = inspect.signature(operator.__init__).parameters
    for param in case.endpoint.params:
        if not param.argument:  # supplied by the connection only
            assert param.name not in signature
            continue
        argument = signature[param.name]
        assert argument.kind is inspect.Parameter.KEYWORD_ONLY
        assert argument.default == (EMPTY if param.required else param.default)
        assert param.name in operator.template_fields
    conn_id = signature[operator.conn_id_param]
    assert conn_id.default == operator.hook_class.default_conn_name
    assert operator.conn_id_param in operator.template_fields
    batch = case.endpoint.batch
    if batch is not None and batch.size_param:  # checked at parse time, so never templated
        assert signature[batch.size_param].default == batch.size
        assert batch.size_param not in operator.template_fields


WITH_REQUIRED = [case for case in CASES if any(p.required for p in case.endpoint.params)]


def test_the_insider_whatsapp_endpoints_alone_have_no_required_argument():
    assert {case.endpoint.vendor for case in CASES if case not in WITH_REQUIRED} == {"insider_whatsapp"}


@pytest.mark.parametrize("case", WITH_REQUIRED, ids=str)
def test_a_missing_required_argument_fails_when_the_dag_is_parsed(case):
    kwargs = case.kwargs()
    for name in [p.name for p in case.endpoint.params if p.required]:
        others = {k: v for k, v in kwargs.items() if k != name}
        with pytest.raises((TypeError, AirflowException), match=f"missing keyword argument '{name}'"):
            case.operator(task_id="t", **others)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_partial_and_expand_know_the_arguments(case):
    kwargs = case.kwargs()
    name = next(p.name for p in case.endpoint.params if p.argument)
    value = kwargs.pop(name, None)
    mapped = case.operator.partial(task_id="m", **kwargs).expand(**{name: [value, value]})
    assert mapped.operator_class is case.operator
    with pytest.raises(TypeError, match="unexpected keyword argument 'not_an_argument'"):
        case.operator.partial(task_id="n", **kwargs).expand(not_an_argument=[1])
