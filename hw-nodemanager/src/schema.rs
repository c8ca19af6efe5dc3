//! The vendor methods' JSON input schemas (Ironic's `*_schema.json`, verbatim).
//! They are checked with [`hwctl_core::json_schema`] (re-exported here), which words its
//! errors as Python's `jsonschema` does; the `Node` layer validates vendor `args`
//! against them too, since every [`VendorMethod`](hwctl_core::VendorMethod) of
//! [`crate::NmVendor`] carries its schema.
//!
//! ```
//! use hwctl_nodemanager::schema;
//! let err = schema::validate(schema::main_ids(), &serde_json::json!({"domain_id": "gpu", "policy_id": 1}))
//!     .unwrap_err();
//! assert_eq!(err.message, "'gpu' is not one of ['platform', 'cpu', 'memory', 'io']");
//! assert_eq!(err.path_string(), "domain_id");
//! ```

use std::sync::LazyLock;

use serde_json::Value;

pub use hwctl_core::json_schema::{
    PathItem, SchemaError, all_errors, py_repr, unsupported_keywords, validate,
};

macro_rules! schema {
    ($fn:ident, $file:literal, $doc:literal) => {
        #[doc = $doc]
        pub fn $fn() -> &'static Value {
            static SCHEMA: LazyLock<Value> =
                LazyLock::new(|| {
                    serde_json::from_str(include_str!(concat!("../schemas/", $file))).expect(
                        concat!("schemas/", $file, " is valid JSON (checked by tests)"),
                    )
                });
            &SCHEMA
        }
    };
}

schema!(
    control,
    "control_schema.json",
    "`control_nm_policy`: scope, enable, domain_id, policy_id."
);
schema!(
    get_cap,
    "get_cap_schema.json",
    "`get_nm_capabilities`: domain_id, policy_trigger, power_domain."
);
schema!(
    main_ids,
    "main_ids_schema.json",
    "`get_nm_policy`, `remove_nm_policy`, `get_nm_policy_suspend`, `remove_nm_policy_suspend`: domain_id, policy_id."
);
schema!(policy, "policy_schema.json", "`set_nm_policy`: the policy.");
schema!(
    statistics,
    "statistics_schema.json",
    "`get_nm_statistics`, `reset_nm_statistics`: scope, parameter_name, domain_id, policy_id."
);
schema!(
    suspend,
    "suspend_schema.json",
    "`set_nm_policy_suspend`: domain_id, policy_id, periods."
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all() -> [(&'static str, &'static Value); 6] {
        [
            ("control", control()),
            ("get_cap", get_cap()),
            ("main_ids", main_ids()),
            ("policy", policy()),
            ("statistics", statistics()),
            ("suspend", suspend()),
        ]
    }

    #[test]
    fn every_schema_parses_and_uses_only_known_keywords() {
        for (name, s) in all() {
            assert!(s.is_object(), "{name}");
            assert_eq!(unsupported_keywords(s), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn schemas_are_the_fixtures_verbatim() {
        for (name, s) in all() {
            let path = format!(
                "{}/tests/fixtures/intel_nm/staging_{name}_schema.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let fixture: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(&fixture, s, "{name}");
        }
    }

    #[test]
    fn required_wins_over_additional_and_nested() {
        let e = validate(control(), &json!({"enable": "x", "bogus": 1})).unwrap_err();
        assert_eq!(e.message, "'scope' is a required property");
        let e = validate(
            control(),
            &json!({"scope": "global", "enable": true, "bogus": 1}),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Additional properties are not allowed ('bogus' was unexpected)"
        );
    }

    #[test]
    fn any_of_descends_only_when_one_branch_is_deeper() {
        let base = json!({"domain_id": "platform", "enable": true, "policy_id": 1,
            "policy_trigger": "boot", "action": "alert", "power_domain": "primary",
            "reporting_period": 1});
        let mut v = base.clone();
        v["target_limit"] = json!("abc");
        let e = validate(policy(), &v).unwrap_err();
        assert_eq!(
            e.message,
            "'abc' is not valid under any of the given schemas"
        );
        v["target_limit"] = json!({"boot_mode": "turbo", "cores_disabled": 1});
        let e = validate(policy(), &v).unwrap_err();
        assert_eq!(e.message, "'turbo' is not one of ['power', 'performance']");
        v["target_limit"] = json!(70000);
        let e = validate(policy(), &v).unwrap_err();
        assert_eq!(e.message, "70000 is greater than the maximum of 65535");
    }
}
