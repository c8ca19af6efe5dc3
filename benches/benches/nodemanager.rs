//! hwctl-nodemanager codecs: for each command, encode the request and decode a reply
//! (the reply bytes are Ironic's fixture vectors where they exist).
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use hwctl_nodemanager::vendor::parse_call;
use hwctl_nodemanager::wire;
use hwctl_nodemanager::{
    CapabilitiesQuery, ControlScope, Day, Domain, GlobalStatistic, Policy, PolicyRef, PowerDomain,
    StatisticsQuery, StatisticsReset, SuspendPeriod, TargetLimit, Trigger,
};

const ID: [u8; 3] = [0x57, 0x01, 0x00];

fn reply(body: &[u8]) -> Vec<u8> {
    let mut v = ID.to_vec();
    v.extend_from_slice(body);
    v
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("nodemanager encode+decode");
    let p = PolicyRef::new(Domain::Platform, 123);
    let ack = reply(&[]);

    let version = reply(&[0x05, 0x03, 0x07, 0x01, 0x02]);
    g.bench_function("get_nm_version", |b| {
        b.iter(|| {
            let r = wire::encode_get_version();
            wire::check_intel_id(black_box(&version)).unwrap();
            (
                black_box(r),
                wire::decode_version(black_box(&version)).unwrap(),
            )
        })
    });
    let caps_q = CapabilitiesQuery {
        domain_id: Domain::Platform,
        policy_trigger: Trigger::None,
        power_domain: PowerDomain::Primary,
    };
    let caps = reply(&[
        0x10, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0x80, 0,
    ]);
    g.bench_function("get_nm_capabilities", |b| {
        b.iter(|| {
            (
                wire::encode_get_capabilities(black_box(&caps_q)),
                wire::decode_capabilities(black_box(&caps)).unwrap(),
            )
        })
    });
    g.bench_function("control_nm_policy", |b| {
        b.iter(|| {
            (
                wire::encode_control_policy(true, black_box(ControlScope::Policy(p))),
                wire::check_intel_id(black_box(&ack)).unwrap(),
            )
        })
    });
    let mut policy = Policy::new(
        Domain::Platform,
        123,
        Trigger::Temperature,
        TargetLimit::Watts(1000),
    );
    policy.correction_time = 2000;
    policy.trigger_limit = 100;
    policy.reporting_period = 600;
    g.bench_function("set_nm_policy", |b| {
        b.iter(|| {
            wire::check_policy(black_box(&policy)).unwrap();
            (
                wire::encode_set_policy(black_box(&policy)),
                wire::check_intel_id(black_box(&ack)).unwrap(),
            )
        })
    });
    let pol = reply(&[
        0x70, 0x00, 0x00, 0x02, 0xFF, 0x00, 0x01, 0x02, 0x00, 0x01, 0x20, 0x40, 0x01,
    ]);
    g.bench_function("get_nm_policy", |b| {
        b.iter(|| {
            (
                wire::encode_get_policy(black_box(p)),
                wire::decode_policy(black_box(&pol)).unwrap(),
            )
        })
    });
    g.bench_function("remove_nm_policy", |b| {
        b.iter(|| {
            (
                wire::encode_remove_policy(black_box(p)),
                wire::check_intel_id(black_box(&ack)).unwrap(),
            )
        })
    });
    let periods = vec![
        SuspendPeriod {
            start: 20,
            stop: 100,
            days: vec![Day::Monday, Day::Tuesday],
        },
        SuspendPeriod {
            start: 30,
            stop: 150,
            days: vec![Day::Friday, Day::Sunday],
        },
    ];
    g.bench_function("set_nm_policy_suspend", |b| {
        b.iter(|| {
            wire::check_suspend_periods(black_box(&periods)).unwrap();
            (
                wire::encode_set_policy_suspend(black_box(p), &periods),
                wire::check_intel_id(&ack).unwrap(),
            )
        })
    });
    let sus = reply(&[0x02, 0x08, 0x18, 0x03, 0x20, 0x50, 0x18]);
    g.bench_function("get_nm_policy_suspend", |b| {
        b.iter(|| {
            (
                wire::encode_get_policy_suspend(black_box(p)),
                wire::decode_policy_suspend(black_box(&sus)).unwrap(),
            )
        })
    });
    g.bench_function("remove_nm_policy_suspend", |b| {
        b.iter(|| {
            (
                wire::encode_remove_policy_suspend(black_box(p)),
                wire::check_intel_id(&ack).unwrap(),
            )
        })
    });
    let sq = StatisticsQuery::Global {
        parameter: GlobalStatistic::Power,
        domain_id: Domain::Platform,
    };
    let stats = reply(&[
        0x80, 0x00, 0x20, 0x00, 0xF0, 0x00, 0x60, 0x00, 0x00, 0x01, 0x20, 0x40, 0x01, 0x01, 0x00,
        0x00, 0xF0,
    ]);
    g.bench_function("get_nm_statistics", |b| {
        b.iter(|| {
            let s = wire::decode_statistics(black_box(&stats)).unwrap();
            (
                wire::encode_get_statistics(black_box(&sq)),
                s.timestamp.to_iso8601(),
            )
        })
    });
    let reset = StatisticsReset::Policy(PolicyRef::new(Domain::Platform, 111));
    g.bench_function("reset_nm_statistics", |b| {
        b.iter(|| {
            (
                wire::encode_reset_statistics(black_box(&reset)).unwrap(),
                wire::check_intel_id(&ack).unwrap(),
            )
        })
    });
    g.finish();

    let args = serde_json::json!({"domain_id": "platform", "enable": true, "policy_id": 123,
        "policy_trigger": "temperature", "action": "alert", "power_domain": "primary",
        "target_limit": 1000, "correction_time": 2000, "trigger_limit": 100, "reporting_period": 600});
    c.bench_function("nodemanager set_nm_policy JSON validate+parse", |b| {
        b.iter(|| parse_call("set_nm_policy", black_box(&args)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
