"""Regenerates jsonschema_cases.json: the message Python's jsonschema gives for each
bad input to the Node Manager schemas (run with the jsonschema the repo venv has)."""
import importlib.metadata
import json
import os

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, '..', '..', '..', '..', 'shared', 'fixtures', 'intel_nm')
NAMES = ['control', 'get_cap', 'main_ids', 'policy', 'statistics', 'suspend']
S = {n: json.load(open(os.path.join(FIX, 'staging_%s_schema.json' % n)))
     for n in NAMES}

P = {"domain_id": "platform", "enable": True, "policy_id": 1,
     "policy_trigger": "none", "action": "alert", "power_domain": "primary",
     "target_limit": 100, "reporting_period": 1}
PER = {"start": 1, "stop": 2, "days": ["monday"]}
SUS = {"domain_id": "platform", "policy_id": 1, "periods": [PER]}


def w(d, **kw):
    d = dict(d)
    d.update(kw)
    return d


def wo(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


CASES = [
    ('control', {"scope": "global", "enable": True}),
    ('control', {"enable": "x", "bogus": 1}),
    ('control', {"scope": "global", "enable": True, "bogus": 1, "abc": 2}),
    ('control', {"scope": "all", "enable": True}),
    ('control', {"scope": "global", "enable": 1}),
    ('control', {"scope": "policy", "enable": True, "domain_id": "protection", "policy_id": 1}),
    ('control', {"scope": "policy", "enable": True, "domain_id": "cpu", "policy_id": 256}),
    ('control', []),
    ('control', {}),
    ('get_cap', {"domain_id": "cpu", "policy_trigger": "power", "power_domain": "secondary"}),
    ('get_cap', {"domain_id": "cpu", "policy_trigger": "fire", "power_domain": "third"}),
    ('get_cap', {"domain_id": "cpu"}),
    ('main_ids', {"domain_id": 5, "policy_id": 1}),
    ('main_ids', {"domain_id": "x", "policy_id": -1}),
    ('main_ids', {"domain_id": "cpu", "policy_id": True}),
    ('main_ids', {"domain_id": "cpu", "policy_id": 1.5}),
    ('main_ids', {"domain_id": "cpu", "policy_id": "1"}),
    ('main_ids', {"domain_id": None, "policy_id": 1}),
    ('main_ids', {"domain_id": "it's", "policy_id": 1}),
    ('main_ids', [1, "a", None]),
    ('policy', P),
    ('policy', w(P, target_limit="abc")),
    ('policy', w(P, target_limit={"boot_mode": "turbo", "cores_disabled": 1})),
    ('policy', w(P, target_limit=70000)),
    ('policy', w(P, target_limit=-1)),
    ('policy', w(P, target_limit={"boot_mode": "power"})),
    ('policy', w(P, target_limit={"boot_mode": "power", "cores_disabled": 200})),
    ('policy', w(P, target_limit={"boot_mode": "power", "cores_disabled": 2, "x": 1})),
    ('policy', w(P, target_limit=[1])),
    ('policy', w(P, cpu_power_correction="unaggressive")),
    ('policy', w(P, storage="flash", action="reboot")),
    ('policy', w(P, correction_time=-5)),
    ('policy', w(P, trigger_limit=65536, reporting_period=65536)),
    ('policy', wo(P, "target_limit", "enable")),
    ('policy', w(P, enable="true")),
    ('statistics', {"scope": "global"}),
    ('statistics', {"scope": "domain"}),
    ('statistics', {"scope": "global", "parameter_name": 5}),
    ('statistics', {"scope": "policy", "domain_id": "gpu", "policy_id": 300}),
    ('statistics', {"parameter_name": "power"}),
    ('suspend', SUS),
    ('suspend', w(SUS, periods=[])),
    ('suspend', w(SUS, periods=[w(PER, days=["monday", "monday"])])),
    ('suspend', w(SUS, periods=[w(PER, days=[])] * 6)),
    ('suspend', w(SUS, periods=[w(PER, days=[])])),
    ('suspend', w(SUS, periods=[w(PER, start=300, days=["x"])])),
    ('suspend', w(SUS, periods=[PER, w(PER, stop=241)])),
    ('suspend', w(SUS, periods=[wo(PER, "days")])),
    ('suspend', w(SUS, periods=[w(PER, extra=True)])),
    ('suspend', w(SUS, periods={"start": 1})),
    ('suspend', w(SUS, periods=[5])),
    ('suspend', wo(SUS, "periods")),
]

out = []
for schema, instance in CASES:
    try:
        jsonschema.validate(instance, S[schema])
        out.append({"schema": schema, "instance": instance, "message": None})
    except jsonschema.ValidationError as e:
        out.append({"schema": schema, "instance": instance, "message": e.message,
                    "path": list(e.absolute_path)})

json.dump({"_source": "python jsonschema %s, jsonschema.validate(instance, schema); message = ValidationError.message"
           % importlib.metadata.version('jsonschema'), "cases": out},
          open(os.path.join(HERE, 'jsonschema_cases.json'), 'w'), indent=1)
