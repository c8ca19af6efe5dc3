//! hwctl-core: driver_info validation and MAC parsing, which every node build pays.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_core::{DriverInfo, MacAddress, NodeContext, Property};
use std::hint::black_box;

const SCHEMA: &[Property] = &[
    Property::required("x_address", "Address."),
    Property::required("x_username", "User."),
    Property::required("x_password", "Password.").secret(),
    Property::optional("x_port", "Port.").default_value("623"),
    Property::optional("x_relay", "Relay.").default_value("1"),
];

fn validation(c: &mut Criterion) {
    let info = DriverInfo::from_json(serde_json::json!({
        "x_address": "10.0.0.1", "x_username": "admin", "x_password": "secret", "x_port": 9100
    }))
    .unwrap();
    c.bench_function("driver_info validate 5 properties", |b| {
        b.iter(|| {
            let mut v = black_box(&info).validator(SCHEMA);
            let host = v.host("x_address");
            let port = v.port("x_port");
            let relay = v.int_in_range("x_relay", 1, 32);
            let pw = v.secret("x_password");
            v.finish().unwrap();
            black_box((host, port, relay, pw.is_some()))
        })
    });
    c.bench_function("fake-hardware node build", |b| {
        let ht = hwctl_core::fake::hardware_type();
        let empty = DriverInfo::new();
        let ctx = NodeContext::new("n");
        b.iter(|| black_box(ht.build(&empty, &ctx).unwrap()))
    });
}

fn mac(c: &mut Criterion) {
    c.bench_function("MacAddress parse (dashes)", |b| {
        b.iter(|| {
            black_box("52-54-00-CF-2D-31")
                .parse::<MacAddress>()
                .unwrap()
        })
    });
}

criterion_group!(benches, validation, mac);
criterion_main!(benches);
