//! The fixture byte vectors (Ironic's test_commands.py), both directions, and the
//! JSON-schema cases (messages from Python's jsonschema).
#![allow(clippy::unwrap_used)]

use hwctl_core::ErrorKind;
use hwctl_nodemanager::vendor::{NmCall, parse_call};
use hwctl_nodemanager::wire;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/intel_nm/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vendor_method(build_name: &str) -> &'static str {
    match build_name {
        n if n.starts_with("set_policy_suspend") => "set_nm_policy_suspend",
        n if n.starts_with("set_policy") => "set_nm_policy",
        "get_capabilities" => "get_nm_capabilities",
        "control_policies" => "control_nm_policy",
        "get_policy" => "get_nm_policy",
        "remove_policy" => "remove_nm_policy",
        "get_policy_suspend" => "get_nm_policy_suspend",
        "remove_policy_suspend" => "remove_nm_policy_suspend",
        "get_version" => "get_nm_version",
        n if n.starts_with("reset_statistics") => "reset_nm_statistics",
        n if n.starts_with("get_statistics") => "get_nm_statistics",
        other => panic!("unmapped vector {other}"),
    }
}

fn encode(call: &NmCall) -> wire::NmRequest {
    match call {
        NmCall::GetVersion => wire::encode_get_version(),
        NmCall::GetCapabilities(q) => wire::encode_get_capabilities(q),
        NmCall::ControlPolicy { enable, scope } => wire::encode_control_policy(*enable, *scope),
        NmCall::SetPolicy(p) => {
            wire::check_policy(p).unwrap();
            wire::encode_set_policy(p)
        }
        NmCall::GetPolicy(p) => wire::encode_get_policy(*p),
        NmCall::RemovePolicy(p) => wire::encode_remove_policy(*p),
        NmCall::SetPolicySuspend(p, periods) => {
            wire::check_suspend_periods(periods).unwrap();
            wire::encode_set_policy_suspend(*p, periods)
        }
        NmCall::GetPolicySuspend(p) => wire::encode_get_policy_suspend(*p),
        NmCall::RemovePolicySuspend(p) => wire::encode_remove_policy_suspend(*p),
        NmCall::GetStatistics(q) => wire::encode_get_statistics(q),
        NmCall::ResetStatistics(r) => wire::encode_reset_statistics(r).unwrap(),
    }
}

fn hex_list(v: &Value) -> Vec<u8> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| u8::from_str_radix(s.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
        .collect()
}

#[test]
fn every_build_vector_encodes_byte_exact() {
    let v = fixture("staging_nm_commands_test_vectors.json");
    let cases = v["build"].as_array().unwrap();
    assert_eq!(cases.len(), 17);
    let mut methods = std::collections::BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let method = vendor_method(name);
        methods.insert(method);
        let call = parse_call(method, &case["input"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = encode(&call).to_bytes();
        assert_eq!(got, hex_list(&case["expected"]), "{name}");
    }
    assert_eq!(methods.len(), 11, "every vendor method has a vector");
}

#[test]
fn every_parse_vector_decodes_as_ironic() {
    let v = fixture("staging_nm_commands_test_vectors.json");
    let cases = v["parse"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let text: Vec<&str> = case["raw_response"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let decoded: hwctl_core::Result<Value> = wire::parse_ipmitool_output(&text.join(" "))
            .and_then(|raw| {
                let kind = name.trim_start_matches("parse_");
                if kind.starts_with("policy_suspend") {
                    wire::decode_policy_suspend(&raw).map(|x| serde_json::to_value(x).unwrap())
                } else if kind.starts_with("policy") {
                    wire::decode_policy(&raw).map(|x| serde_json::to_value(x).unwrap())
                } else if kind.starts_with("capabilities") {
                    wire::decode_capabilities(&raw).map(|x| serde_json::to_value(x).unwrap())
                } else if kind.starts_with("version") {
                    wire::decode_version(&raw).map(|x| serde_json::to_value(x).unwrap())
                } else if kind.starts_with("statistics") {
                    wire::decode_statistics(&raw).map(|x| serde_json::to_value(x).unwrap())
                } else {
                    panic!("unmapped {name}")
                }
            });
        if let Some(expected) = case.get("expected") {
            assert_eq!(decoded.unwrap(), *expected, "{name}");
        } else if let Some(ts) = case.get("expected_timestamp") {
            assert_eq!(decoded.unwrap()["timestamp"], *ts, "{name}");
        } else {
            assert_eq!(case["expected_error"], "IPMIFailure");
            let err = decoded.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{name}");
            let msg = err.to_string();
            let want = if name.ends_with("invalid_length") {
                "has wrong length"
            } else if name.ends_with("corrupted_data") {
                "is corrupted"
            } else {
                "cannot be converted"
            };
            assert!(msg.contains(want), "{name}: {msg}");
        }
    }
}

#[test]
fn length_and_enum_errors_name_the_field() {
    let err = wire::decode_capabilities(&[0x57, 1, 0, 16, 0, 0x10]).unwrap_err();
    assert!(
        err.to_string().contains("field domain_id needs 21"),
        "{err}"
    );
    let mut raw = vec![0x57, 1, 0, 0x10, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let err = wire::decode_policy(&raw).unwrap_err();
    assert!(
        err.to_string()
            .contains("cpu_power_correction has unknown value 0x60"),
        "{err}"
    );
    raw[4] = 0x07;
    let err = wire::decode_policy(&raw).unwrap_err();
    assert!(
        err.to_string()
            .contains("policy_trigger has unknown value 0x07"),
        "{err}"
    );
    raw[4] = 0;
    raw.push(0);
    let err = wire::decode_policy(&raw).unwrap_err();
    assert!(
        err.to_string().contains("has 17 bytes, expected 16"),
        "{err}"
    );
    let err = wire::decode_statistics(&[0x57, 1, 0, 1, 2, 3]).unwrap_err();
    assert!(err.to_string().contains("field domain_id"), "{err}");
    let err = wire::decode_version(&[0x57, 1, 0, 5, 2, 7, 1]).unwrap_err();
    assert!(err.to_string().contains("field firmware needs 8"), "{err}");
}

#[test]
fn json_schema_cases_match_python_jsonschema() {
    let path = format!(
        "{}/tests/data/jsonschema_cases.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let data: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let schemas = [
        ("control", hwctl_nodemanager::schema::control()),
        ("get_cap", hwctl_nodemanager::schema::get_cap()),
        ("main_ids", hwctl_nodemanager::schema::main_ids()),
        ("policy", hwctl_nodemanager::schema::policy()),
        ("statistics", hwctl_nodemanager::schema::statistics()),
        ("suspend", hwctl_nodemanager::schema::suspend()),
    ];
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() > 40);
    for case in cases {
        let schema = schemas
            .iter()
            .find(|(n, _)| *n == case["schema"])
            .unwrap()
            .1;
        let got = hwctl_nodemanager::schema::validate(schema, &case["instance"]);
        match case["message"].as_str() {
            None => assert!(got.is_ok(), "{case}: {got:?}"),
            Some(want) => {
                let err = got.unwrap_err();
                if want.contains("{'start'") {
                    // Python keeps an object's insertion order; serde_json sorts keys.
                    let mut a: Vec<char> = err.message.chars().collect();
                    let mut b: Vec<char> = want.chars().collect();
                    a.sort_unstable();
                    b.sort_unstable();
                    assert_eq!(a, b, "{case}");
                } else {
                    assert_eq!(err.message, want, "{case}");
                }
                let path: Vec<String> = case["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().map_or_else(|| format!("[{p}]"), str::to_owned))
                    .collect();
                let expected_path = path.join(".").replace(".[", "[");
                assert_eq!(err.path_string(), expected_path, "{case}");
            }
        }
    }
}

#[test]
fn ironic_extra_rules() {
    use serde_json::json;
    let miss = |m: &str, v: Value, name: &str| {
        let e = parse_call(m, &v).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingParameter, "{m} {v}: {e}");
        assert_eq!(e.problems()[0].name, name, "{m} {v}");
    };
    let invalid = |m: &str, v: Value, text: &str| {
        let e = parse_call(m, &v).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidParameter, "{m} {v}: {e}");
        assert!(e.to_string().contains(text), "{m} {v}: {e}");
    };
    miss(
        "control_nm_policy",
        json!({"scope": "domain", "enable": true}),
        "domain_id",
    );
    miss(
        "control_nm_policy",
        json!({"scope": "policy", "enable": true}),
        "domain_id",
    );
    miss(
        "control_nm_policy",
        json!({"scope": "policy", "enable": true, "domain_id": "cpu"}),
        "policy_id",
    );
    assert!(
        parse_call(
            "control_nm_policy",
            &json!({"scope": "global", "enable": false})
        )
        .is_ok()
    );
    let base = json!({"domain_id": "platform", "enable": true, "policy_id": 1,
        "policy_trigger": "boot", "action": "alert", "power_domain": "primary",
        "target_limit": 100, "reporting_period": 1});
    invalid("set_nm_policy", base.clone(), "Invalid boot policy");
    let mut p = base.clone();
    p["policy_trigger"] = json!("none");
    miss("set_nm_policy", p.clone(), "correction_time");
    p["policy_trigger"] = json!("temperature");
    p["correction_time"] = json!(10);
    miss("set_nm_policy", p.clone(), "trigger_limit");
    miss(
        "get_nm_statistics",
        json!({"scope": "global", "parameter_name": "power"}),
        "domain_id",
    );
    miss(
        "get_nm_statistics",
        json!({"scope": "policy", "parameter_name": "power", "domain_id": "cpu"}),
        "policy_id",
    );
    miss(
        "get_nm_statistics",
        json!({"scope": "global", "domain_id": "cpu"}),
        "parameter_name",
    );
    invalid(
        "get_nm_statistics",
        json!({"scope": "policy", "parameter_name": "airflow", "domain_id": "cpu", "policy_id": 1}),
        "Invalid parameter name airflow for scope policy",
    );
    invalid(
        "reset_nm_statistics",
        json!({"scope": "global", "parameter_name": "power", "domain_id": "cpu"}),
        "individual reset is possible only for: unhandled_requests, response_time, cpu_throttling, memory_throttling, communication_failures",
    );
    invalid(
        "get_nm_policy",
        json!({"domain_id": "cpu"}),
        "Input data validation error: 'policy_id' is a required property",
    );
    invalid("no_such", json!({}), "no handler for method no_such");
    // get_nm_version takes no schema; Ironic ignores what it is given.
    assert_eq!(
        parse_call("get_nm_version", &json!({"x": 1})).unwrap(),
        NmCall::GetVersion
    );
    // jsonschema accepts 1.0 as an integer; so do we.
    assert!(
        parse_call(
            "get_nm_policy",
            &json!({"domain_id": "cpu", "policy_id": 1.0})
        )
        .is_ok()
    );
}
