#![allow(clippy::unwrap_used, missing_docs)]
//! Where the time of reading a reply goes: quick-xml's bare tokenizer (the floor),
//! quick-xml's `NsReader` (what hw-ocs and hw-amt used before issue 16),
//! hwctl-xml's `Reader` (tokenizer + own namespace scope + checks) and `Doc` (the
//! tree on top). Input: the captured OCS `BladeStateResponse` and AMT Pull reply.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hwctl_xml::{Doc, Limits, Reader};

const OCS: &str = include_str!("../../hw-ocs/tests/fixtures/msftocs/ironic_BladeStateResponse.xml");
const AMT: &str =
    include_str!("../../hw-amt/tests/fixtures/gowsman_cim_service_availabletoelement_pull.xml");

fn quick_xml_events(body: &str) -> usize {
    let mut r = quick_xml::Reader::from_str(body);
    let mut n = 0;
    loop {
        match r.read_event().unwrap() {
            quick_xml::events::Event::Eof => return n,
            _ => n += 1,
        }
    }
}

fn quick_xml_ns_events(body: &str) -> usize {
    let mut r = quick_xml::NsReader::from_str(body);
    let mut n = 0;
    loop {
        match r.read_resolved_event().unwrap() {
            (_, quick_xml::events::Event::Eof) => return n,
            _ => n += 1,
        }
    }
}

fn our_events(body: &str) -> usize {
    let mut r = Reader::new(body.as_bytes(), Limits::default()).unwrap();
    let mut n = 0;
    while r.next().unwrap().is_some() {
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    for (name, body) in [("ocs_blade_state", OCS), ("amt_pull", AMT)] {
        c.bench_function(&format!("xml/{name}/quick_xml_reader"), |b| {
            b.iter(|| quick_xml_events(black_box(body)))
        });
        c.bench_function(&format!("xml/{name}/quick_xml_ns_reader"), |b| {
            b.iter(|| quick_xml_ns_events(black_box(body)))
        });
        c.bench_function(&format!("xml/{name}/hwctl_xml_reader"), |b| {
            b.iter(|| our_events(black_box(body)))
        });
        c.bench_function(&format!("xml/{name}/hwctl_xml_doc"), |b| {
            b.iter(|| Doc::parse(black_box(body.as_bytes()), Limits::default()).unwrap())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
